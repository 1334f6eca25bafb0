// Log in (docs/api.md §3.2): e-mail and password; the API's errors shown by their field.

import { get, post, signIn } from "../api.js";
import { field, formAlert, h, heading, onSubmit } from "../ui.js";

export function render(main, { query, navigate }) {
  const form = h(
    "form",
    { novalidate: true, "aria-labelledby": "login-title" },
    formAlert(),
    field({ label: "E-mail", name: "email", type: "email", autocomplete: "email", required: true }),
    field({ label: "Password", name: "password", type: "password", autocomplete: "current-password", required: true }),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Log in")),
  );
  onSubmit(
    form,
    async ({ email, password }) => {
      const answer = await post("/api/auth/login", { email, password });
      signIn(answer.access_token, answer.user);
      const next = query.next && query.next.startsWith("#/") ? query.next : "#/";
      navigate(next);
    },
    { INVALID_CREDENTIALS: "password" },
  );
  const setupHint = h("p", { class: "notice", id: "setup-hint", hidden: true },
    "No administrator exists yet: ", h("a", { href: "#/setup" }, "set up Peerview"),
    " with the setup code from the server's log.");
  // On a new installation the first administrator is made from the browser (docs/api.md §3.5).
  get("/api/setup")
    .then((status) => (setupHint.hidden = !status.setup_open))
    .catch(() => {});
  const title = heading("Log in");
  title.id = "login-title";
  main.append(
    h("div", { class: "auth-box card" },
      title,
      form,
      h("p", {}, "No account yet? ", h("a", { href: "#/signup" }, "Sign up")),
      setupHint),
  );
}
