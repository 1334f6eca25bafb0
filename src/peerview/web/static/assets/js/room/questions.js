// The room's questions panel (docs/api.md §5.6, §6). The interviewer searches the bank, adds a
// question or takes the suggestion, and sees each question's hints and solution; adding a
// question reveals its title and prompt to the interviewee. The interviewee's list comes only
// from the session itself, which the API shapes for them (never hints nor solution), and this
// panel never asks the bank anything on their behalf.

import { del, get, post } from "../api.js";
import { choices, DIFFICULTIES, empty, field, formAlert, h, label, onSubmit, replace, TYPES } from "../ui.js";

const PAGE = 8;

/**
 * The panel: `{element, update(session), setEnabled(open)}`. `onChanged(session)` is called
 * after the interviewer changed the list, with the session as it now is.
 */
export function questionsPanel({ session, isInterviewer, onChanged }) {
  const sessionPath = `/api/interview-sessions/${encodeURIComponent(session.id)}`;
  const list = h("ol", { class: "list room-questions", "aria-label": "Questions of this session" });
  const announcer = h("p", { class: "room-sr-only", role: "status", "aria-live": "polite" });
  const actionAlert = h("p", { class: "form-alert", role: "alert", hidden: true });
  let known = new Set(session.questions.map((q) => q.question_id));
  let current = session;
  let editable = true;

  function showError(error) {
    actionAlert.textContent = error?.message || String(error);
    actionAlert.hidden = false;
  }

  function clearError() {
    actionAlert.hidden = true;
    actionAlert.textContent = "";
  }

  function paintList() {
    const questions = current.questions || [];
    if (!questions.length) {
      replace(
        list,
        h("li", { class: "empty-item" },
          empty(isInterviewer
            ? "No question yet. Add one from the bank below, or take the suggestion."
            : `No question yet: ${current.interviewer.name} will reveal them here.`)),
      );
      return;
    }
    replace(list, questions.map((question) => questionItem(question)));
  }

  function questionItem(question) {
    const titleId = `q-${question.question_id}-title`;
    const item = h(
      "li",
      { class: "room-question", "aria-labelledby": titleId, dataset: { questionId: question.question_id } },
      h("h3", { id: titleId }, `${question.position}. ${question.title}`),
      h("p", { class: "prompt" }, question.prompt),
    );
    if (isInterviewer) {
      const hints = question.hints || [];
      item.append(
        hints.length
          ? h("div", { class: "hints" },
              h("h4", {}, "Hints (only you see these)"),
              h("ul", {}, hints.map((hint) => h("li", { class: "hint-text" }, hint))))
          : h("p", { class: "muted" }, "No hints for this question."),
        question.solution
          ? h("details", { class: "solution" },
              h("summary", {}, "Solution (only you see it)"),
              h("p", {}, question.solution))
          : null,
        editable
          ? h("div", { class: "actions" },
              h("button", {
                type: "button",
                class: "link",
                "aria-label": `Remove “${question.title}”`,
                onclick: () => remove(question),
              }, "Remove"))
          : null,
      );
    }
    return item;
  }

  async function remove(question) {
    clearError();
    try {
      await del(`${sessionPath}/questions/${encodeURIComponent(question.question_id)}`);
      await reload();
    } catch (error) {
      showError(error);
    }
  }

  async function reload() {
    const fresh = await get(sessionPath);
    update(fresh);
    onChanged(fresh);
  }

  /** Show the session's questions as `fresh` has them; announce the ones that are new. */
  function update(fresh) {
    current = fresh;
    const questions = fresh.questions || [];
    const added = questions.filter((q) => !known.has(q.question_id));
    known = new Set(questions.map((q) => q.question_id));
    if (added.length && !isInterviewer) {
      announcer.textContent = `New question: ${added.map((q) => q.title).join(", ")}`;
    }
    paintList();
    paintResults();
  }

  const element = h(
    "aside",
    { class: "card room-side", "aria-labelledby": "room-questions-title" },
    h("h2", { id: "room-questions-title" }, "Questions"),
    announcer,
    list,
  );

  // --- The interviewer's bank search and the suggestion ------------------------------------
  let results = [];
  let nextCursor = null;
  let lastQuery = null;
  const resultsList = h("ul", { class: "list bank-results", "aria-label": "Questions found in the bank" });
  const resultsInfo = h("p", { class: "muted", role: "status" });
  const more = h("button", { type: "button", hidden: true, onclick: () => search(lastQuery, nextCursor) }, "More results");

  function paintResults() {
    if (!isInterviewer) return;
    if (lastQuery === null) {
      replace(resultsList);
      return;
    }
    replace(
      resultsList,
      results.map((question) => {
        const added = known.has(question.id);
        return h(
          "li",
          {},
          h("div", { class: "row" },
            h("strong", {}, question.title),
            h("button", {
              type: "button",
              class: added ? null : "primary",
              disabled: added || !editable,
              "aria-label": added ? `“${question.title}” is in the session` : `Add “${question.title}”`,
              onclick: () => add(question),
            }, added ? "Added" : "Add")),
          h("ul", { class: "meta" },
            h("li", {}, question.category),
            h("li", {}, label(question.difficulty)),
            h("li", {}, label(question.type))),
          h("p", { class: "prompt-preview" }, question.prompt),
        );
      }),
    );
    more.hidden = !nextCursor;
  }

  async function search(query, cursor = null) {
    const page = await get("/api/questions", { ...query, limit: PAGE, cursor });
    lastQuery = query;
    results = cursor ? [...results, ...page.items] : page.items;
    nextCursor = page.next_cursor;
    resultsInfo.textContent = results.length
      ? `${results.length}${nextCursor ? "+" : ""} question${results.length === 1 ? "" : "s"} found.`
      : "No question of the bank matches.";
    paintResults();
  }

  async function add(question) {
    clearError();
    try {
      await post(`${sessionPath}/questions`, { question_id: question.id });
      await reload();
    } catch (error) {
      if (error.code === "QUESTION_ALREADY_ADDED") await reload().catch(() => {});
      showError(error);
    }
  }

  let searchForm = null;
  let suggestButton = null;
  if (isInterviewer) {
    searchForm = h(
      "form",
      { class: "bank-search", "aria-labelledby": "bank-title", role: "search" },
      formAlert(),
      field({ label: "Search the bank", name: "q", type: "search", placeholder: "Title or prompt" }),
      h("div", { class: "form-grid" },
        field({ label: "Category", name: "category", value: session.category }),
        field({ label: "Difficulty", name: "difficulty", options: choices(DIFFICULTIES, "Any"), value: session.difficulty }),
        field({ label: "Type", name: "type", options: choices(TYPES, "Any"), value: session.type })),
      h("div", { class: "actions" }, h("button", { type: "submit" }, "Search")),
    );
    onSubmit(searchForm, async ({ q, category, difficulty, type }) => {
      await search({ q: q.trim(), category: category.trim(), difficulty, type });
    });
    suggestButton = h("button", { type: "button", class: "primary", onclick: suggest }, "Suggest a question");
    element.append(
      actionAlert,
      h("section", { class: "stack bank", "aria-labelledby": "bank-title" },
        h("h3", { id: "bank-title" }, "Add a question"),
        h("p", { class: "hint" },
          "Adding a question reveals its title and prompt to ", session.interviewee.name,
          " at once; the hints and the solution stay yours."),
        h("div", { class: "actions" }, suggestButton,
          h("span", { class: "muted" }, "one of this session's category, difficulty and type that ",
            session.interviewee.name, " has not had")),
        searchForm,
        resultsInfo,
        resultsList,
        more),
    );
  }

  async function suggest() {
    clearError();
    suggestButton.disabled = true;
    try {
      const before = known.size;
      const answer = await post(`${sessionPath}/questions/suggest`, { count: 1 });
      if (answer.items.length === before) {
        showError({ message: "The bank has no further question of this kind that is new to them. Search the bank instead." });
      }
      await reload();
    } catch (error) {
      showError(error);
    } finally {
      suggestButton.disabled = !editable;
    }
  }

  /** Once the session is over its questions are history: no more changes. */
  function setEnabled(open) {
    editable = open;
    if (suggestButton) suggestButton.disabled = !open;
    paintList();
    paintResults();
  }

  paintList();
  return { element, update, setEnabled };
}
