// The peer's cursor and selection, with their name, drawn from the awareness states: the idea of
// y-codemirror.next's yRemoteSelections, rewritten for Peerview's Content-Security-Policy
// (style-src 'self'). Its caret widget sets a `style` attribute, which the policy blocks; here
// every colour is set through CSSOM (`element.style`, and CodeMirror's own `style` attributes of
// decorations, which it applies with `style.cssText`). The name is always shown above the caret.

import { Annotation, RangeSet } from "@codemirror/state";
import { Decoration, EditorView, ViewPlugin, WidgetType } from "@codemirror/view";
import * as Y from "yjs";

const refresh = Annotation.define();

const theme = EditorView.baseTheme({
  ".cm-ySelectionCaret": {
    position: "relative",
    borderLeft: "2px solid",
    marginLeft: "-1px",
    marginRight: "-1px",
    boxSizing: "border-box",
    display: "inline",
  },
  ".cm-ySelectionInfo": {
    position: "absolute",
    top: "-1.35em",
    left: "-2px",
    fontSize: ".75em",
    fontFamily: "system-ui, sans-serif",
    fontStyle: "normal",
    fontWeight: "600",
    lineHeight: "1.3",
    userSelect: "none",
    pointerEvents: "none",
    color: "#fff",
    padding: "0 3px",
    borderRadius: "3px 3px 3px 0",
    zIndex: "101",
    whiteSpace: "nowrap",
  },
  ".cm-line:first-child .cm-ySelectionInfo": { top: "1.2em", borderRadius: "0 3px 3px 3px" },
  ".cm-yLineSelection": { padding: 0, margin: "0px 2px 0px 4px" },
});

class CaretWidget extends WidgetType {
  constructor(color, name) {
    super();
    this.color = color;
    this.name = name;
  }

  toDOM() {
    const caret = document.createElement("span");
    caret.className = "cm-ySelectionCaret";
    caret.style.borderColor = this.color;
    caret.append("\u2060");
    const info = document.createElement("span");
    info.className = "cm-ySelectionInfo";
    info.style.backgroundColor = this.color;
    info.textContent = this.name;
    caret.append(info, "\u2060");
    return caret;
  }

  eq(other) {
    return other.color === this.color && other.name === this.name;
  }

  get estimatedHeight() {
    return -1;
  }

  ignoreEvent() {
    return true;
  }
}

const mark = (colorLight) => Decoration.mark({ attributes: { style: `background-color: ${colorLight}` }, class: "cm-ySelection" });

/** Publishes the local selection in `awareness` and draws everyone else's over `ytext`. */
export function remoteSelections(ytext, awareness) {
  const ydoc = ytext.doc;
  const plugin = ViewPlugin.fromClass(
    class {
      constructor(view) {
        this.decorations = RangeSet.of([]);
        this.listener = ({ added, updated, removed }) => {
          if ([...added, ...updated, ...removed].some((id) => id !== ydoc.clientID)) {
            view.dispatch({ annotations: [refresh.of(true)] });
          }
        };
        awareness.on("change", this.listener);
      }

      destroy() {
        awareness.off("change", this.listener);
      }

      update(update) {
        const local = awareness.getLocalState();
        if (local) {
          const focused = update.view.hasFocus && update.view.dom.ownerDocument.hasFocus();
          const selection = focused ? update.state.selection.main : null;
          if (selection) {
            const anchor = Y.createRelativePositionFromTypeIndex(ytext, selection.anchor);
            const head = Y.createRelativePositionFromTypeIndex(ytext, selection.head);
            const current = local.cursor;
            if (!current
              || !Y.compareRelativePositions(Y.createRelativePositionFromJSON(current.anchor), anchor)
              || !Y.compareRelativePositions(Y.createRelativePositionFromJSON(current.head), head)) {
              awareness.setLocalStateField("cursor", { anchor, head });
            }
          }
        }
        const ranges = [];
        const doc = update.state.doc;
        awareness.getStates().forEach((state, clientId) => {
          if (clientId === ydoc.clientID) return;
          const cursor = state.cursor;
          if (!cursor?.anchor || !cursor?.head) return;
          const anchor = Y.createAbsolutePositionFromRelativePosition(cursor.anchor, ydoc);
          const head = Y.createAbsolutePositionFromRelativePosition(cursor.head, ydoc);
          if (!anchor || !head || anchor.type !== ytext || head.type !== ytext) return;
          if (Math.max(anchor.index, head.index) > doc.length) return;
          const color = /^#[0-9a-f]{3,8}$/i.test(state.user?.color || "") ? state.user.color : "#30bced";
          const colorLight = /^#[0-9a-f]{3,8}$/i.test(state.user?.colorLight || "") ? state.user.colorLight : `${color}33`;
          const name = String(state.user?.name || "Anonymous").slice(0, 80);
          const start = Math.min(anchor.index, head.index);
          const end = Math.max(anchor.index, head.index);
          const startLine = doc.lineAt(start);
          const endLine = doc.lineAt(end);
          if (start < end) {
            if (startLine.number === endLine.number) {
              ranges.push(mark(colorLight).range(start, end));
            } else {
              if (start < startLine.to) ranges.push(mark(colorLight).range(start, startLine.to));
              for (let n = startLine.number + 1; n < endLine.number; n += 1) {
                const from = doc.line(n).from;
                ranges.push(Decoration.line({
                  attributes: { style: `background-color: ${colorLight}`, class: "cm-yLineSelection" },
                }).range(from));
              }
              if (endLine.from < end) ranges.push(mark(colorLight).range(endLine.from, end));
            }
          }
          ranges.push(Decoration.widget({
            side: head.index - anchor.index > 0 ? -1 : 1,
            widget: new CaretWidget(color, name),
          }).range(head.index));
        });
        this.decorations = Decoration.set(ranges, true);
      }
    },
    { decorations: (value) => value.decorations },
  );
  return [theme, plugin];
}
