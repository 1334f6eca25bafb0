// Sign up (docs/api.md §3.2): name, e-mail, password and role; signed in straight away.
// The API's errors are shown next to the field they name (EMAIL_TAKEN by the e-mail).

import { post, signIn } from "../api.js";
import { field, formAlert, h, heading, onSubmit, uid } from "../ui.js";

function roleChoice() {
  const hintId = uid("role-hint");
  const errorId = `${hintId}-error`;
  const radio = (value, text, description, checked = false) => {
    const id = uid(`role-${value.toLowerCase()}`);
    return h("div", { class: "field field-check role-option" },
      h("input", { type: "radio", name: "role", value, id, checked, "aria-describedby": `${id}-d` }),
      h("label", { for: id }, text),
      h("span", { class: "hint", id: `${id}-d` }, `— ${description}`));
  };
  return h(
    "fieldset",
    { class: "field", dataset: { field: "role" }, "aria-describedby": errorId },
    h("legend", {}, "Role"),
    radio("INTERVIEWEE", "Interviewee", "I want to practise being interviewed", true),
    radio("INTERVIEWER", "Interviewer", "I want to interview others"),
    h("p", { class: "field-error", id: errorId, hidden: true }),
  );
}

export function render(main, { navigate }) {
  const title = heading("Sign up");
  title.id = "signup-title";
  const form = h(
    "form",
    { novalidate: true, "aria-labelledby": "signup-title" },
    formAlert(),
    field({ label: "Name", name: "name", autocomplete: "name", required: true, maxlength: 100 }),
    field({ label: "E-mail", name: "email", type: "email", autocomplete: "email", required: true }),
    field({
      label: "Password",
      name: "password",
      type: "password",
      autocomplete: "new-password",
      required: true,
      hint: "8 to 128 characters.",
    }),
    roleChoice(),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Sign up")),
  );
  onSubmit(
    form,
    async ({ name, email, password }) => {
      const role = form.querySelector("input[name=role]:checked")?.value || "INTERVIEWEE";
      const answer = await post("/api/auth/register", { name, email, password, role });
      signIn(answer.access_token, answer.user);
      navigate("#/");
    },
    { EMAIL_TAKEN: "email", ROLE_NOT_ALLOWED: "role" },
  );
  main.append(
    h("div", { class: "auth-box card" },
      title,
      form,
      h("p", {}, "Already have an account? ", h("a", { href: "#/login" }, "Log in"))),
  );
}
