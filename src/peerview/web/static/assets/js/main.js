// The web app's shell: the router (routes live after the `#`), the navigation by role,
// the notifications bell, and the signed-in state kept across reloads.

import { auth, get, onAuthChange, post, setUser, signOut } from "./api.js";
import { mountBell } from "./bell.js";
import * as live from "./live.js";
import { h, replace, toast } from "./ui.js";

/**
 * The routes. `page` loads a module whose `render(main, context)` fills `main` and may return
 * a cleanup function, called when the user leaves the page. `roles` limits who may open it;
 * `public` routes need no account.
 */
const ROUTES = [
  { path: "/login", page: () => import("./pages/login.js"), public: true },
  { path: "/signup", page: () => import("./pages/signup.js"), public: true },
  { path: "/setup", page: () => import("./pages/setup.js"), public: true },
  { path: "/profile", page: () => import("./pages/profile.js") },
  { path: "/requests", page: () => import("./pages/requests.js"), roles: ["INTERVIEWEE"] },
  { path: "/board", page: () => import("./pages/board.js"), roles: ["INTERVIEWER", "ADMIN"] },
  { path: "/sessions", page: () => import("./pages/sessions.js") },
  { path: "/sessions/:id", page: () => import("./pages/session.js") },
  { path: "/room/:id", page: () => import("./pages/room.js"), roles: ["INTERVIEWER", "INTERVIEWEE", "ADMIN"] },
  { path: "/practice", page: () => import("./pages/practice.js"), roles: ["INTERVIEWEE"] },
  { path: "/practice/:id", page: () => import("./pages/practice-session.js"), roles: ["INTERVIEWEE", "ADMIN"] },
  { path: "/feedback", page: () => import("./pages/feedback.js") },
  { path: "/notifications", page: () => import("./pages/notifications.js") },
  { path: "/analytics", page: () => import("./pages/analytics.js") },
  { path: "/admin/analytics", page: () => import("./pages/admin-analytics.js"), roles: ["ADMIN"] },
  { path: "/admin/questions", page: () => import("./pages/admin-questions.js"), roles: ["ADMIN"] },
  { path: "/admin/users", page: () => import("./pages/admin-users.js"), roles: ["ADMIN"] },
];

const NAV = {
  INTERVIEWEE: [
    ["#/requests", "My requests"],
    ["#/practice", "Practice"],
    ["#/sessions", "Sessions"],
    ["#/feedback", "Feedback"],
    ["#/analytics", "My analytics"],
  ],
  INTERVIEWER: [
    ["#/board", "Open requests"],
    ["#/sessions", "Sessions"],
    ["#/feedback", "Feedback"],
    ["#/analytics", "My analytics"],
  ],
  ADMIN: [
    ["#/board", "Open requests"],
    ["#/sessions", "Sessions"],
    ["#/admin/questions", "Questions"],
    ["#/admin/users", "Users"],
    ["#/admin/analytics", "Platform"],
  ],
};

/** Where a user lands after signing in (and on `#/`). */
function homeFor(user) {
  if (!user) return "#/login";
  return user.role === "INTERVIEWEE" ? "#/requests" : "#/board";
}

function navigate(hash) {
  if (window.location.hash === hash) route();
  else window.location.hash = hash;
}

function match(path) {
  for (const candidate of ROUTES) {
    const names = [];
    const pattern = candidate.path.replace(/:(\w+)/g, (_, name) => {
      names.push(name);
      return "([^/]+)";
    });
    const found = new RegExp(`^${pattern}$`).exec(path);
    if (found) {
      const params = Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(found[i + 1])]));
      return { route: candidate, params };
    }
  }
  return null;
}

function parseHash() {
  const hash = window.location.hash.startsWith("#/") ? window.location.hash.slice(1) : "/";
  const [path, search = ""] = hash.split("?");
  return { path: path || "/", query: Object.fromEntries(new URLSearchParams(search)) };
}

let cleanup = null;
let rendering = 0;

async function route() {
  if (window.location.hash && !window.location.hash.startsWith("#/")) return; // an in-page anchor
  const ticket = ++rendering;
  const { path, query } = parseHash();
  const main = document.getElementById("main");
  if (cleanup) {
    try {
      cleanup();
    } catch (error) {
      console.warn(error);
    }
    cleanup = null;
  }
  if (path === "/") {
    navigate(homeFor(auth.user));
    return;
  }
  const found = match(path);
  if (!found) {
    renderNav();
    replace(main, h("h1", { tabindex: "-1", class: "page-title" }, "Page not found"),
      h("p", {}, h("a", { href: homeFor(auth.user) }, "Go to your start page")));
    focusTitle(main);
    return;
  }
  const { route: target, params } = found;
  if (!target.public && !auth.user) {
    const back = encodeURIComponent(window.location.hash);
    navigate(`#/login?next=${back}`);
    return;
  }
  if (target.public && auth.user && path !== "/setup") {
    navigate(homeFor(auth.user));
    return;
  }
  renderNav();
  if (target.roles && !target.roles.includes(auth.user.role)) {
    replace(main, h("h1", { tabindex: "-1", class: "page-title" }, "Not available"),
      h("p", {}, "This page is not available to your role."));
    focusTitle(main);
    return;
  }
  main.setAttribute("aria-busy", "true");
  try {
    const module = await target.page();
    if (ticket !== rendering) return;
    replace(main);
    const result = await module.render(main, { params, query, user: auth.user, navigate });
    if (ticket !== rendering) {
      if (typeof result === "function") result();
      return;
    }
    cleanup = typeof result === "function" ? result : null;
  } catch (error) {
    if (ticket !== rendering) return;
    console.warn(error);
    replace(main, h("h1", { tabindex: "-1", class: "page-title" }, "Something went wrong"),
      h("p", { role: "alert" }, error?.message || String(error)));
  } finally {
    main.removeAttribute("aria-busy");
  }
  if (ticket === rendering) focusTitle(main);
}

function focusTitle(main) {
  const title = main.querySelector("h1");
  if (title) {
    document.title = `${title.textContent} · Peerview`;
    title.focus({ preventScroll: true });
  }
}

function renderNav() {
  const nav = document.getElementById("nav");
  const account = document.getElementById("account");
  const user = auth.user;
  if (!user) {
    replace(nav, h("ul", {}, h("li", {}, h("a", { href: "#/login" }, "Log in")),
      h("li", {}, h("a", { href: "#/signup" }, "Sign up"))));
    replace(account);
    return;
  }
  const current = `#${parseHash().path}`;
  replace(
    nav,
    h("ul", {}, (NAV[user.role] || []).map(([href, text]) =>
      h("li", {}, h("a", { href, "aria-current": current.startsWith(href) ? "page" : null }, text)))),
  );
  if (!account.dataset.user || account.dataset.user !== `${user.id}:${user.name}`) {
    account.dataset.user = `${user.id}:${user.name}`;
    replace(
      account,
      h("div", { id: "bell" }),
      h("a", { href: "#/profile", class: "account-name", title: "Your profile" }, user.name),
      h("button", { type: "button", class: "link", onclick: logout }, "Log out"),
    );
    mountBell(document.getElementById("bell"));
  }
}

async function logout() {
  try {
    await post("/api/auth/logout");
  } catch {
    // Already signed out on the server (or unreachable): forget the token all the same.
  }
  signOut(null);
  navigate("#/login");
  toast("You are logged out.");
}

/** Load the signed-in user from the kept token (a reload stays signed in). */
async function restore() {
  if (!auth.token) return;
  try {
    setUser(await get("/api/auth/me"));
  } catch (error) {
    if (error.status === 401) signOut(null);
    else toast(error.message, "error");
  }
}

onAuthChange((state) => {
  if (state.token && state.user) {
    renderNav(); // a changed name shows in the header at once
    return;
  }
  if (!state.token) {
    const account = document.getElementById("account");
    delete account.dataset.user;
    replace(account);
    if (state.reason) toast(state.reason, "error");
    const current = parseHash().path;
    const onPublic = ROUTES.some((r) => r.public && r.path === current);
    if (!onPublic) navigate("#/login");
    else renderNav();
  }
});

async function start() {
  document.getElementById("skip").addEventListener("click", (event) => {
    event.preventDefault();
    document.querySelector("#main h1")?.focus();
  });
  await restore();
  if (auth.user) live.connect();
  window.addEventListener("hashchange", route);
  await route();
  document.documentElement.dataset.ready = "true";
}

start();
