// The profile (docs/api.md §3.2): name and e-mail notifications, and the password change,
// which revokes every token of the account: the user logs in again afterwards.

import { auth, patch, setUser, signOut } from "../api.js";
import { field, formAlert, h, heading, label, onSubmit, toast } from "../ui.js";

export function render(main, { user }) {
  const saved = h("p", { class: "muted", role: "status" });
  const details = h(
    "form",
    { novalidate: true, "aria-labelledby": "profile-details" },
    h("h2", { id: "profile-details" }, "Your details"),
    formAlert(),
    h("p", { class: "meta" },
      h("span", {}, `E-mail: ${user.email}`),
      h("span", {}, `Role: ${label(user.role)}`)),
    field({ label: "Name", name: "name", value: user.name, autocomplete: "name", required: true, maxlength: 100 }),
    field({
      label: "E-mail me my notifications",
      name: "email_notifications",
      type: "checkbox",
      checked: user.email_notifications,
    }),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Save"), saved),
  );
  onSubmit(details, async ({ name, email_notifications }) => {
    saved.textContent = "";
    const updated = await patch("/api/users/me", { name, email_notifications });
    setUser(updated);
    // The shell paints the header's name when a page is opened; show the new one now.
    const headerName = document.querySelector("#account .account-name");
    if (headerName) headerName.textContent = updated.name;
    saved.textContent = "Saved.";
  });

  const password = h(
    "form",
    { novalidate: true, "aria-labelledby": "profile-password" },
    h("h2", { id: "profile-password" }, "Change your password"),
    h("p", { class: "notice" },
      "Changing your password logs you out everywhere, this browser included: you log in again with the new one."),
    formAlert(),
    field({
      label: "Current password",
      name: "current_password",
      type: "password",
      autocomplete: "current-password",
      required: true,
    }),
    field({
      label: "New password",
      name: "password",
      type: "password",
      autocomplete: "new-password",
      required: true,
      hint: "8 to 128 characters.",
    }),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Change password")),
  );
  onSubmit(
    password,
    async ({ current_password, password: next }) => {
      await patch("/api/users/me", { current_password, password: next });
      // Every token is revoked now (the server ends the socket too, and may have told us first).
      const stillSignedIn = auth.token !== null;
      signOut(null);
      if (stillSignedIn) toast("Your password was changed. Please log in again.", "ok");
    },
    { INVALID_CURRENT_PASSWORD: "current_password" },
  );

  main.append(heading("Your profile"), h("div", { class: "cols" },
    h("section", { class: "card" }, details),
    h("section", { class: "card" }, password)));
}
