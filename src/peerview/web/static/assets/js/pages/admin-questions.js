// The question bank for admins (docs/api.md §6): search and filters, a paginated list,
// create and edit, soft delete and restore, and the permanent delete with its refusal
// (409 HARD_DELETE_GUARDED) when a session used the question.

import { del, get, post, put } from "../api.js";
import {
  DIFFICULTIES, TYPES, choices, empty, failed, field, formAlert, formatDay, h, heading,
  label, onSubmit, replace, toast,
} from "../ui.js";

const PAGE_SIZE = 20;

/** A 422's item errors (`tags.3`, `hints.0`) belong to the field that holds the list. */
function byField(error) {
  if (!error || error.status === undefined) return error;
  const fields = {};
  for (const [name, message] of Object.entries(error.fields || {})) {
    const [base, index] = name.split(".");
    const what = { tags: "Tag", hints: "Hint" }[base];
    const prefix = what && index !== undefined ? `${what} ${Number(index) + 1}: ` : "";
    if (!(base in fields)) fields[base] = `${prefix}${message}`;
  }
  return { status: error.status, code: error.code, message: error.message, fields };
}

const lines = (text) => text.split("\n").map((line) => line.trim()).filter(Boolean);
const tagList = (text) => text.split(",").map((tag) => tag.trim()).filter(Boolean);

/** The body of POST/PUT /api/questions from the form's values. */
function body(values) {
  const out = {
    title: values.title,
    prompt: values.prompt,
    category: values.category,
    difficulty: values.difficulty,
    type: values.type,
    tags: tagList(values.tags),
    hints: lines(values.hints),
  };
  if (values.solution.trim()) out.solution = values.solution;
  return out;
}

function questionForm(question, { onSaved, onCancel }) {
  const editing = Boolean(question);
  const q = question || {};
  const titleId = editing ? "question-form-title-edit" : "question-form-title-new";
  const form = h(
    "form",
    { class: "question-form", novalidate: true, "aria-labelledby": titleId },
    formAlert(),
    field({ label: "Title", name: "title", value: q.title || "", maxlength: 200, required: true }),
    h("div", { class: "form-grid" },
      field({ label: "Category", name: "category", value: q.category || "", maxlength: 64, required: true,
        hint: "Stored in lower case, e.g. arrays" }),
      field({ label: "Difficulty", name: "difficulty", options: choices(DIFFICULTIES), value: q.difficulty || "MEDIUM" }),
      field({ label: "Type", name: "type", options: choices(TYPES), value: q.type || "CODING" })),
    field({ label: "Prompt", name: "prompt", type: "textarea", value: q.prompt || "", maxlength: 10000, required: true,
      hint: "What the interviewee is asked (up to 10,000 characters)" }),
    field({ label: "Tags", name: "tags", value: (q.tags || []).join(", "),
      hint: "Separated by commas; up to 20 tags of at most 40 characters" }),
    field({ label: "Hints", name: "hints", type: "textarea", value: (q.hints || []).join("\n"),
      hint: "One hint per line, up to 20; only interviewers see them" }),
    field({ label: "Solution", name: "solution", type: "textarea", value: q.solution || "", maxlength: 20000,
      hint: "Optional; only interviewers see it" }),
    h("div", { class: "actions" },
      h("button", { type: "submit", class: "primary" }, editing ? "Save changes" : "Create question"),
      h("button", { type: "button", onclick: onCancel }, "Cancel")),
  );
  onSubmit(form, async (values) => {
    let saved;
    try {
      saved = editing
        ? await put(`/api/questions/${encodeURIComponent(q.id)}`, body(values))
        : await post("/api/questions", body(values));
    } catch (error) {
      throw byField(error);
    }
    await onSaved(saved, editing);
  });
  return h("section", { class: "card stack", "aria-labelledby": titleId },
    h("h2", { id: titleId, tabindex: "-1" }, editing ? `Edit “${q.title}”` : "New question"),
    form);
}

function filtersForm(onSearch) {
  const form = h(
    "form",
    { class: "filters card", role: "search", "aria-label": "Filter questions" },
    h("div", { class: "form-grid" },
      field({ label: "Search", name: "q", type: "search", placeholder: "Title or prompt" }),
      field({ label: "Category", name: "category" }),
      field({ label: "Tag", name: "tag" }),
      field({ label: "Difficulty", name: "difficulty", options: choices(DIFFICULTIES, "Any difficulty") }),
      field({ label: "Type", name: "type", options: choices(TYPES, "Any type") })),
    field({ label: "Show deleted questions too", name: "include_deleted", type: "checkbox" }),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Search")),
  );
  onSubmit(form, async (values) => {
    const query = { ...values, include_deleted: values.include_deleted ? "true" : undefined };
    await onSearch(query);
  });
  return form;
}

export async function render(main) {
  const state = { query: {}, cursors: [null], page: 0 };
  const editor = h("div", { class: "editor" });
  const status = h("p", { class: "muted", role: "status" });
  const list = h("ul", { class: "list questions", "aria-label": "Questions" });
  const previous = h("button", { type: "button", onclick: () => go(state.page - 1) }, "Previous page");
  const next = h("button", { type: "button", onclick: () => go(state.page + 1) }, "Next page");
  const pager = h("nav", { class: "pager", "aria-label": "Pages of questions" }, previous, next);

  async function load() {
    const answer = await get("/api/questions", {
      ...state.query, limit: PAGE_SIZE, cursor: state.cursors[state.page] || undefined,
    });
    state.cursors[state.page + 1] = answer.next_cursor;
    state.cursors.length = state.page + 2;
    replace(list, answer.items.map(item));
    if (!answer.items.length) list.append(h("li", {}, empty("No questions match.")));
    previous.disabled = state.page === 0;
    next.disabled = !answer.next_cursor;
    const count = answer.items.length;
    status.textContent = `Page ${state.page + 1}: ${count} question${count === 1 ? "" : "s"}${answer.next_cursor ? ", more on the next page" : ""}.`;
  }

  async function go(page) {
    state.page = Math.max(0, page);
    try {
      await load();
      status.focus?.();
    } catch (error) {
      failed(error);
    }
  }

  function closeEditor() {
    replace(editor);
    newButton.focus();
  }

  function openEditor(question) {
    replace(editor, questionForm(question, {
      onCancel: closeEditor,
      onSaved: async (saved, editing) => {
        toast(editing ? `Saved “${saved.title}”.` : `Created “${saved.title}”.`, "ok");
        closeEditor();
        await load();
      },
    }));
    editor.querySelector("h2").focus();
  }

  async function act(row, action, message) {
    const alert = row.querySelector(".inline-alert");
    alert.hidden = true;
    try {
      await action();
      toast(message, "ok");
      await load();
    } catch (error) {
      if (error.status === 409 || error.status === 404) {
        alert.textContent = error.message;
        alert.hidden = false;
        alert.focus();
      } else failed(error);
    }
  }

  function item(question) {
    const path = `/api/questions/${encodeURIComponent(question.id)}`;
    const deleted = Boolean(question.deleted_at);
    const named = (text) => [text, h("span", { class: "visually-hidden" }, ` “${question.title}”`)];
    const confirm = h("div", { class: "notice warn", hidden: true },
      h("p", {}, `Delete “${question.title}” for good? This cannot be undone.`),
      h("div", { class: "actions" },
        h("button", {
          type: "button", class: "danger",
          onclick: () => act(row, () => del(path, { hard: "true" }), `Deleted “${question.title}” for good.`),
        }, "Yes, delete for good"),
        h("button", { type: "button", onclick: () => { confirm.hidden = true; } }, "Keep it")));
    const actions = deleted
      ? [
        h("button", { type: "button", onclick: () => act(row, () => post(`${path}/restore`), `Restored “${question.title}”.`) }, named("Restore")),
        h("button", {
          type: "button", class: "danger",
          onclick: () => {
            confirm.hidden = false;
            confirm.querySelector("button").focus();
          },
        }, named("Delete permanently")),
      ]
      : [
        h("button", { type: "button", onclick: () => openEditor(question) }, named("Edit")),
        h("button", {
          type: "button",
          onclick: () => act(row, () => del(path), `Deleted “${question.title}”; it can be restored from “Show deleted questions”.`),
        }, named("Delete")),
      ];
    const row = h(
      "li",
      { class: "question", dataset: { id: question.id } },
      h("div", { class: "row" },
        h("div", { class: "question-head" },
          h("h3", { class: "item-title" }, question.title, " ",
            deleted ? h("span", { class: "badge badge-deleted" }, `Deleted ${formatDay(question.deleted_at)}`) : null),
          h("ul", { class: "meta" },
            h("li", {}, label(question.difficulty)),
            h("li", {}, label(question.type)),
            h("li", {}, `Category: ${question.category}`),
            h("li", {}, `${(question.hints || []).length} hint${(question.hints || []).length === 1 ? "" : "s"}`)),
          question.tags.length ? h("ul", { class: "tags", "aria-label": "Tags" }, question.tags.map((tag) => h("li", {}, tag))) : null),
        h("div", { class: "actions" }, actions)),
      h("details", {},
        h("summary", {}, "Prompt, hints and solution"),
        h("p", { class: "prompt" }, question.prompt),
        question.hints?.length ? h("ol", {}, question.hints.map((hint) => h("li", {}, hint))) : null,
        question.solution ? h("pre", { class: "solution" }, question.solution) : null),
      confirm,
      h("p", { class: "inline-alert", role: "alert", tabindex: "-1", hidden: true }),
    );
    return row;
  }

  const newButton = h("button", { type: "button", class: "primary", onclick: () => openEditor(null) }, "New question");
  const filters = filtersForm(async (query) => {
    state.query = query;
    state.cursors = [null];
    state.page = 0;
    await load();
  });
  main.append(
    heading("Question bank"),
    h("div", { class: "actions page-actions" }, newButton),
    editor,
    filters,
    status,
    list,
    pager,
  );
  status.tabIndex = -1;
  await load();
}
