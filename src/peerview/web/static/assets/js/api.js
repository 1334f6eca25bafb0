// The API client: JSON both ways, the bearer token, problem documents as ApiError.
// docs/api.md §1: every error is an RFC 9457 problem document with a stable `code`, and a
// 422 lists the faulty inputs in `errors` ([{field, location, message, type}]).

const TOKEN_KEY = "peerview.token";
const listeners = new Set();

/** The signed-in state: the token (kept in localStorage so a reload stays signed in) and the user. */
export const auth = {
  token: localStorage.getItem(TOKEN_KEY),
  user: null,
};

/** Call `fn(auth)` whenever someone signs in or out (or the user is reloaded); returns an unsubscribe. */
export function onAuthChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function announce() {
  for (const fn of listeners) fn(auth);
}

export function signIn(token, user) {
  auth.token = token;
  auth.user = user;
  localStorage.setItem(TOKEN_KEY, token);
  announce();
}

/** Forget the token and the user (after a logout, a 401, or a revoked socket). */
export function signOut(reason = null) {
  const wasSignedIn = auth.token !== null;
  auth.token = null;
  auth.user = null;
  auth.reason = reason;
  localStorage.removeItem(TOKEN_KEY);
  if (wasSignedIn) announce();
}

export function setUser(user) {
  auth.user = user;
  announce();
}

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
    this.code = this.problem.code || "HTTP_ERROR";
    this.retryAfter = null;
  }

  /** The 422 field errors by input name (`ratings.overall`, `limit`), one message each. */
  get fields() {
    const fields = {};
    for (const error of this.problem.errors || []) {
      if (error.field && !(error.field in fields)) fields[error.field] = error.message;
    }
    return fields;
  }
}

/** A network failure (server down, connection lost): no problem document. */
export class NetworkError extends ApiError {
  constructor() {
    super(0, {
      code: "NETWORK_ERROR",
      title: "Network error",
      detail: "Peerview could not be reached. Check your connection and try again.",
    });
  }
}

function url(path, query) {
  const target = new URL(path, window.location.origin);
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") target.searchParams.set(name, value);
  }
  return target;
}

/**
 * `method path` with an optional JSON `body` and `query`; resolves to the parsed JSON body
 * (null for 204), or to the Response itself with `raw: true`. Rejects with ApiError.
 * A 401 on a call made with the token drops the token (the user is signed out).
 */
export async function api(method, path, { body, query, raw = false, signal } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const token = auth.token;
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(url(path, query), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new NetworkError();
  }
  if (response.ok) {
    if (raw) return response;
    if (response.status === 204) return null;
    return response.json();
  }
  let problem = null;
  try {
    problem = await response.json();
  } catch {
    problem = null;
  }
  const error = new ApiError(response.status, problem);
  error.retryAfter = response.headers.get("Retry-After");
  if (response.status === 401 && token && token === auth.token) {
    signOut("Your session has ended. Please log in again.");
  }
  throw error;
}

export const get = (path, query, options = {}) => api("GET", path, { ...options, query });
export const post = (path, body, options = {}) => api("POST", path, { ...options, body });
export const put = (path, body) => api("PUT", path, { body });
export const patch = (path, body) => api("PATCH", path, { body });
export const del = (path, query) => api("DELETE", path, { query });

/** Every item of a cursor-paginated list (docs/api.md §1.6), up to `max` items. */
export async function all(path, query = {}, max = 500) {
  const items = [];
  let cursor = null;
  do {
    const page = await get(path, { ...query, limit: 100, cursor });
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && items.length < max);
  return items;
}
