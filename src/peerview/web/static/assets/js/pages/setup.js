// First run (docs/api.md §3.5): while no administrator exists, the setup code that
// `peerview serve` printed in its log makes the first one.

import { get, post, signIn } from "../api.js";
import { field, formAlert, h, heading, onSubmit } from "../ui.js";

export async function render(main, { navigate }) {
  const status = await get("/api/setup");
  if (!status.setup_open) {
    main.append(
      h("div", { class: "auth-box card" },
        heading("Peerview is set up"),
        h("p", {}, "An administrator exists, so the setup code no longer works. ",
          "Administrators can change anyone's role on the Users page."),
        h("p", {}, h("a", { href: "#/login" }, "Log in"))),
    );
    return;
  }
  const form = h(
    "form",
    { novalidate: true, "aria-labelledby": "setup-title" },
    formAlert(),
    field({
      label: "Setup code",
      name: "code",
      autocomplete: "off",
      required: true,
      hint: "Printed in the server's log when it started (peerview serve): “setup code …”.",
    }),
    field({ label: "Name", name: "name", autocomplete: "name", required: true }),
    field({ label: "E-mail", name: "email", type: "email", autocomplete: "email", required: true }),
    field({
      label: "Password",
      name: "password",
      type: "password",
      autocomplete: "new-password",
      required: true,
      hint: "8 to 128 characters.",
    }),
    h("div", { class: "actions" },
      h("button", { type: "submit", class: "primary" }, "Create the administrator")),
  );
  onSubmit(
    form,
    async (values) => {
      const answer = await post("/api/setup/admin", values);
      signIn(answer.access_token, answer.user);
      navigate("#/admin/questions");
    },
    { INVALID_SETUP_CODE: "code", EMAIL_TAKEN: "email" },
  );
  const title = heading("Set up Peerview");
  title.id = "setup-title";
  main.append(
    h("div", { class: "auth-box card" },
      title,
      h("p", {}, "No administrator exists yet. Enter the one-time setup code from the server's ",
        "log to create the first administrator account. The code works once."),
      form),
  );
}
