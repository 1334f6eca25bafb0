// Feedback received (docs/api.md §7): newest first; an item still sealed by the double-blind
// rule is listed as existing, with how to unseal it.

import { get } from "../api.js";
import { empty, failed, formatTime, h, heading, label, replace } from "../ui.js";

const RATINGS = [
  ["communication", "Communication"],
  ["problem_solving", "Problem solving"],
  ["technical", "Technical"],
  ["overall", "Overall"],
];

function item(feedback) {
  if (feedback.hidden) {
    return h("li", { class: "sealed" },
      h("h3", {}, `Sealed feedback from your ${label(feedback.author_role).toLowerCase()}`),
      h("p", { class: "muted" },
        "Feedback is double-blind: you will read it once you have written yours for that session ",
        "(find it among ", h("a", { href: "#/sessions" }, "your past sessions"),
        "), or 72 hours after the session ended."));
  }
  return h("li", {},
    h("div", { class: "row" },
      h("h3", {}, h("a", { href: `#/sessions/${encodeURIComponent(feedback.session_id)}` },
        `From ${feedback.author.name}`)),
      h("span", { class: "muted" }, `as your ${label(feedback.author_role).toLowerCase()} · ${formatTime(feedback.created_at)}`)),
    h("ul", { class: "meta" }, RATINGS.map(([key, text]) => h("li", {}, `${text}: ${feedback.ratings[key]} / 5`))),
    feedback.comments ? h("p", {}, feedback.comments) : h("p", { class: "muted" }, "No comments."));
}

export async function render(main) {
  const list = h("ul", { class: "list" });
  const more = h("button", { type: "button", hidden: true }, "Show more");
  const holder = h("div", {}, list);
  let cursor = null;

  async function load() {
    more.disabled = true;
    try {
      const page = await get("/api/feedback/received", { limit: 20, cursor });
      list.append(...page.items.map(item));
      cursor = page.next_cursor;
      more.hidden = !cursor;
      if (!list.children.length) replace(holder, empty("No feedback about you yet. It appears here after your sessions."));
    } catch (error) {
      failed(error);
    } finally {
      more.disabled = false;
    }
  }
  more.addEventListener("click", load);
  main.append(heading("Feedback received"), holder, h("div", { class: "pager" }, more));
  await load();
}
