// The code pad's editor (issue #14): CodeMirror 6 bound to a Yjs document, bundled by
// web/build.mjs into src/peerview/web/static/assets/vendor/codepad.js. The room
// (assets/js/room/codepad.js) carries the document's updates over Socket.IO; this module
// knows nothing of Peerview's server.

import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap } from "@codemirror/autocomplete";
import { defaultKeymap, indentWithTab } from "@codemirror/commands";
import { cpp } from "@codemirror/lang-cpp";
import { go } from "@codemirror/lang-go";
import { java } from "@codemirror/lang-java";
import { javascript } from "@codemirror/lang-javascript";
import { python } from "@codemirror/lang-python";
import { bracketMatching, foldGutter, foldKeymap, indentOnInput, indentUnit, syntaxHighlighting } from "@codemirror/language";
import { highlightSelectionMatches, searchKeymap } from "@codemirror/search";
import { Compartment, EditorState } from "@codemirror/state";
import { EditorView } from "codemirror";
import {
  crosshairCursor, drawSelection, dropCursor, highlightActiveLine,
  highlightActiveLineGutter, highlightSpecialChars, keymap, lineNumbers, rectangularSelection,
} from "@codemirror/view";
import { classHighlighter } from "@lezer/highlight";
import { yCollab, yUndoManagerKeymap } from "y-codemirror.next";
import { remoteSelections } from "./remote-selections.js";
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate, removeAwarenessStates } from "y-protocols/awareness";
import * as Y from "yjs";

export { Y, Awareness, applyAwarenessUpdate, encodeAwarenessUpdate, removeAwarenessStates };
export const { applyUpdate, encodeStateAsUpdate, encodeStateVector, mergeUpdates } = Y;

/** The languages the server accepts (docs/api.md, the code pad), with their display names. */
export const LANGUAGES = [
  ["python", "Python"],
  ["javascript", "JavaScript"],
  ["typescript", "TypeScript"],
  ["java", "Java"],
  ["cpp", "C++"],
  ["go", "Go"],
  ["plaintext", "Plain text"],
];

function languageSupport(language) {
  switch (language) {
    case "python": return python();
    case "javascript": return javascript();
    case "typescript": return javascript({ typescript: true });
    case "java": return java();
    case "cpp": return cpp();
    case "go": return go();
    default: return [];
  }
}

// Tokens carry stable `tok-*` classes (tok-keyword, tok-string…); app.css colours them.
function baseExtensions({ label, describedBy }) {
  const attributes = { "aria-label": label || "Code", "aria-multiline": "true" };
  if (describedBy) attributes["aria-describedby"] = describedBy;
  return [
    lineNumbers(),
    highlightActiveLineGutter(),
    highlightSpecialChars(),
    foldGutter(),
    drawSelection(),
    dropCursor(),
    EditorState.allowMultipleSelections.of(true),
    indentOnInput(),
    indentUnit.of("    "),
    syntaxHighlighting(classHighlighter),
    bracketMatching(),
    closeBrackets(),
    autocompletion({ activateOnTyping: false }),
    rectangularSelection(),
    crosshairCursor(),
    highlightActiveLine(),
    highlightSelectionMatches(),
    EditorView.contentAttributes.of(attributes),
  ];
}

const encoder = new TextEncoder();

/** Refuses a user's change that inserts more than `limit` UTF-8 bytes in one go. */
function insertLimit(limit, onTooLarge) {
  return EditorState.transactionFilter.of((tr) => {
    if (!tr.docChanged || !tr.isUserEvent("input") && !tr.isUserEvent("paste") && !tr.isUserEvent("drop")) return tr;
    let bytes = 0;
    tr.changes.iterChanges((fromA, toA, fromB, toB, inserted) => {
      bytes += encoder.encode(inserted.toString()).length;
    });
    if (bytes <= limit) return tr;
    onTooLarge?.(bytes);
    return [];
  });
}

function editableExtensions(readOnly) {
  return [EditorState.readOnly.of(readOnly), EditorView.editable.of(!readOnly)];
}

/**
 * An editor in `parent` bound to a fresh Yjs document (its Y.Text "code") and an awareness
 * carrying `user` ({name, color, colorLight}): the peer's cursor and selection are drawn with
 * their name. With `maxInsertBytes`, a typed or pasted insertion of more UTF-8 bytes than that is
 * refused (`onTooLarge(bytes)` is told), since the server refuses such an update whole.
 * Returns {view, doc, text, awareness, setLanguage, setReadOnly, destroy}.
 */
export function createCodePad(parent, {
  language = "plaintext", readOnly = false, user = {}, label, describedBy, maxInsertBytes = 0, onTooLarge,
} = {}) {
  const doc = new Y.Doc();
  const text = doc.getText("code");
  const awareness = new Awareness(doc);
  awareness.setLocalStateField("user", {
    name: user.name || "Anonymous",
    color: user.color || "#1f4fd1",
    colorLight: user.colorLight || `${user.color || "#1f4fd1"}33`,
  });
  const undoManager = new Y.UndoManager(text);
  const languageSlot = new Compartment();
  const editableSlot = new Compartment();
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: text.toString(),
      extensions: [
        baseExtensions({ label, describedBy }),
        keymap.of([
          ...closeBracketsKeymap, ...defaultKeymap, ...searchKeymap, ...foldKeymap,
          ...completionKeymap, ...yUndoManagerKeymap, indentWithTab,
        ]),
        languageSlot.of(languageSupport(language)),
        editableSlot.of(editableExtensions(readOnly)),
        // The document's sync and undo from y-codemirror.next; the peer's selection our own.
        yCollab(text, null, { undoManager }),
        remoteSelections(text, awareness),
        maxInsertBytes ? insertLimit(maxInsertBytes, onTooLarge) : [],
      ],
    }),
  });
  return {
    view,
    doc,
    text,
    awareness,
    setLanguage(next) {
      view.dispatch({ effects: languageSlot.reconfigure(languageSupport(next)) });
    },
    setReadOnly(value) {
      view.dispatch({ effects: editableSlot.reconfigure(editableExtensions(Boolean(value))) });
    },
    destroy() {
      removeAwarenessStates(awareness, [doc.clientID], "local");
      awareness.destroy();
      undoManager.destroy();
      view.destroy();
      doc.destroy();
    },
  };
}

/** A read-only editor showing `text` highlighted as `language` (no Yjs): the final code. */
export function createCodeView(parent, { text = "", language = "plaintext", label, describedBy } = {}) {
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: text,
      extensions: [
        baseExtensions({ label, describedBy }),
        keymap.of([...defaultKeymap, ...searchKeymap, ...foldKeymap]),
        languageSupport(language),
        editableExtensions(true),
      ],
    }),
  });
  return { view, destroy: () => view.destroy() };
}

/** Standard base64 of bytes (the contract's encoding of Yjs updates and state vectors). */
export function toBase64(bytes) {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** The bytes of a standard base64 string. */
export function fromBase64(text) {
  const binary = atob(text || "");
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
