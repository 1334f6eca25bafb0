// Peerview's benchmarked endpoints written the way the seed's own stack would write them:
// Express 5, jsonwebtoken (HS256, the secret as a string), pg (a pool of 10) or better-sqlite3,
// argon2 for passwords, node:cluster for several processes. Same tables (Peerview's schema),
// same SQL semantics, same JSON shapes as Peerview's responses.
// Env: DB=pg|sqlite  WORKERS=N  PORT  PG_URL  SQLITE_PATH  JWT_SECRET  POOL_SIZE
'use strict';
const cluster = require('node:cluster');
const crypto = require('node:crypto');
const express = require('express');
const jwt = require('jsonwebtoken');
const argon2 = require('argon2');

const WORKERS = parseInt(process.env.WORKERS || '1', 10);
const PORT = parseInt(process.env.PORT || '8000', 10);
const DB = process.env.DB || 'pg';
const SECRET = process.env.JWT_SECRET || 'peerview-bench-secret-0123456789abcdef0123';
const TOKEN_MINUTES = 60;
const EXPIRY_BUFFER_MS = 5 * 3600 * 1000; // REQUEST_EXPIRY_BUFFER_HOURS
const HARD_BUFFER_MS = 30 * 60 * 1000; // SESSION_HARD_BUFFER_MINUTES
const NO_SHOW_MS = 30 * 60 * 1000; // NO_SHOW_MINUTES
const MAX_OPEN_REQUESTS = 5;
const MAX_DAYS_AHEAD = 60;
const DIFFICULTIES = new Set(['EASY', 'MEDIUM', 'HARD']);
const TYPES = new Set(['CODING', 'SYSTEM_DESIGN', 'BEHAVIORAL', 'CONCEPTUAL']);
const CREATE_FIELDS = new Set(['category', 'difficulty', 'type', 'scheduled_at', 'duration_minutes', 'note']);

class HttpError extends Error {
  constructor(status, code, title, detail) {
    super(detail || title);
    this.status = status; this.code = code; this.title = title; this.detail = detail || title;
  }
}
const notAuthenticated = () => new HttpError(401, 'NOT_AUTHENTICATED', 'Authentication is required');
const invalidToken = () => new HttpError(401, 'INVALID_TOKEN', 'The access token is invalid, expired or revoked');
const forbidden = (roles) => new HttpError(403, 'FORBIDDEN', 'Your role does not allow this action',
  `This action is for ${roles.join(', ')} only`);
const invalid = (detail, code = 'VALIDATION_ERROR') => new HttpError(422, code, 'The input is not valid', detail);

// ------------------------------------------------------------------------- time and rows

// SQLite keeps Peerview's times as naive UTC text 'YYYY-MM-DD HH:MM:SS.ffffff'.
const sqliteTime = (ms) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '000');
const msOf = (v) => (v === null || v === undefined ? null
  : v instanceof Date ? v.getTime() : Date.parse(v.replace(' ', 'T') + 'Z'));
const iso = (v) => (v === null || v === undefined ? null
  : v instanceof Date ? v.toISOString() : v.replace(' ', 'T') + 'Z');

function requestRead(r, now) {
  let status = r.status;
  if (status === 'OPEN' && msOf(r.expires_at) <= now) status = 'EXPIRED';
  return {
    id: r.id,
    interviewee: { id: r.interviewee_id, name: r.interviewee_name },
    category: r.category, difficulty: r.difficulty, type: r.type,
    scheduled_at: iso(r.scheduled_at), duration_minutes: r.duration_minutes, note: r.note,
    status, expires_at: iso(r.expires_at), created_at: iso(r.created_at),
    session_id: r.session_id === undefined ? null : r.session_id,
  };
}

// Read-time truth: an overdue LIVE session is COMPLETED, a missed SCHEDULED one CANCELLED.
function sessionRead(s, questions, full, now) {
  let { status, ended_at: endedAt, end_reason: endReason } = s;
  if (status === 'LIVE' && s.hard_end_at !== null && msOf(s.hard_end_at) <= now) {
    status = 'COMPLETED'; endedAt = s.hard_end_at; endReason = 'AUTO_TIMEOUT';
  } else if (status === 'SCHEDULED' && msOf(s.scheduled_at) + NO_SHOW_MS <= now) {
    status = 'CANCELLED'; endedAt = new Date(msOf(s.scheduled_at) + NO_SHOW_MS); endReason = 'NO_SHOW';
  }
  return {
    id: s.id, request_id: s.request_id,
    interviewer: { id: s.interviewer_id, name: s.interviewer_name },
    interviewee: { id: s.interviewee_id, name: s.interviewee_name },
    category: s.category, difficulty: s.difficulty, type: s.type, status,
    scheduled_at: iso(s.scheduled_at), duration_minutes: s.duration_minutes,
    started_at: iso(s.started_at), planned_end_at: iso(s.planned_end_at), hard_end_at: iso(s.hard_end_at),
    ended_at: iso(endedAt), end_reason: endReason, extended_minutes: s.extended_minutes,
    interviewee_joined_at: iso(s.interviewee_joined_at),
    questions: questions.map((q) => {
      const brief = { question_id: q.question_id, position: q.position, title: q.title, prompt: q.prompt,
        added_at: iso(q.added_at) };
      if (!full) return brief;
      const hints = typeof q.hints === 'string' ? JSON.parse(q.hints) : q.hints;
      return { ...brief, hints, solution: q.solution };
    }),
  };
}

function userRead(u) {
  return { id: u.id, name: u.name, email: u.email, role: u.role, is_active: Boolean(u.is_active),
    email_notifications: Boolean(u.email_notifications), created_at: iso(u.created_at) };
}

const cursorOf = (...values) => Buffer.from(JSON.stringify(values)).toString('base64url');

// ------------------------------------------------------------------------- SQL

const SESSION_SQL = (p) => 'SELECT s.*, i.name AS interviewer_name, e.name AS interviewee_name ' +
  'FROM interview_sessions s JOIN users i ON i.id = s.interviewer_id JOIN users e ON e.id = s.interviewee_id ' +
  `WHERE s.id = ${p(1)}`;
const QUESTIONS_SQL = (p) => 'SELECT session_id, question_id, position, title, prompt, hints, solution, added_at ' +
  `FROM session_questions WHERE session_id = ${p(1)} ORDER BY session_id, position`;
const REQUEST_SQL = (p) => 'SELECT r.*, u.name AS interviewee_name, s.id AS session_id, s.interviewer_id ' +
  'FROM interview_requests r JOIN users u ON u.id = r.interviewee_id ' +
  `LEFT OUTER JOIN interview_sessions s ON s.request_id = r.id WHERE r.id = ${p(1)}`;
const TOKEN_HOLDER_SQL = (p) => 'SELECT id, name, email, role, is_active, email_notifications, created_at, ' +
  `tokens_valid_after, EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = ${p(2)}) AS token_revoked ` +
  `FROM users WHERE id = ${p(1)}`;
const OPEN_SQL = (p) => 'SELECT r.*, u.name AS interviewee_name FROM interview_requests r ' +
  `JOIN users u ON u.id = r.interviewee_id WHERE r.status = 'OPEN' AND r.expires_at > ${p(1)} ` +
  `ORDER BY r.scheduled_at, r.id LIMIT ${p(2)}`;
const CREDENTIALS_SQL = (p) => 'SELECT id, name, email, role, is_active, email_notifications, created_at, ' +
  `password_hash, tokens_valid_after FROM users WHERE email = ${p(1)}`;
const LOCK_USER_SQL = (p, forUpdate) => `SELECT id FROM users WHERE id = ${p(1)}${forUpdate ? ' FOR UPDATE' : ''}`;
const COUNT_OPEN_SQL = (p) => 'SELECT count(*) AS n FROM interview_requests ' +
  `WHERE interviewee_id = ${p(1)} AND status = 'OPEN' AND expires_at > ${p(2)}`;
const INSERT_REQUEST_SQL = (p) => 'INSERT INTO interview_requests (id, interviewee_id, category, difficulty, type, ' +
  'scheduled_at, duration_minutes, note, status, expires_at, accepted_at, created_at, updated_at) ' +
  `VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)}, ${p(8)}, 'OPEN', ${p(9)}, NULL, ${p(10)}, ${p(10)})`;
// The interviewer holds a SCHEDULED (not yet missed) or LIVE (not overdue) session overlapping [start, end).
const CONFLICT_SQL = (p) => 'SELECT id FROM interview_sessions WHERE interviewer_id = ' + p(1) +
  ` AND ((status = 'SCHEDULED' AND scheduled_at > ${p(2)}) OR (status = 'LIVE' AND hard_end_at > ${p(3)}))` +
  ` AND coalesce(started_at, scheduled_at) < ${p(4)} AND coalesce(planned_end_at, scheduled_end_at) > ${p(5)} LIMIT 1`;
const ACCEPT_SQL = (p) => `UPDATE interview_requests SET status = 'ACCEPTED', accepted_at = ${p(1)}, updated_at = ${p(1)} ` +
  `WHERE id = ${p(2)} AND status = 'OPEN' AND expires_at > ${p(1)}`;
const INSERT_SESSION_SQL = (p) => 'INSERT INTO interview_sessions (id, request_id, interviewer_id, interviewee_id, ' +
  'category, difficulty, type, status, scheduled_at, duration_minutes, scheduled_end_at, extended_minutes, version, ' +
  `created_at, updated_at) VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)}, 'SCHEDULED', ` +
  `${p(8)}, ${p(9)}, ${p(10)}, 0, 0, ${p(11)}, ${p(11)})`;

// Data access for one database: each function takes plain values, returns plain rows.
function pgStore() {
  const { Pool } = require('pg');
  const pool = new Pool({ connectionString: process.env.PG_URL || 'postgresql://postgres@127.0.0.1:5432/bench',
    max: parseInt(process.env.POOL_SIZE || '10', 10) });
  const p = (n) => `$${n}`;
  const t = (ms) => new Date(ms);
  const one = async (sql, args) => (await pool.query(sql, args)).rows[0];
  const all = async (sql, args) => (await pool.query(sql, args)).rows;
  // A transaction body is a generator that yields each query: here every yield is awaited.
  const tx = async (body) => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const ops = {
        one: async (sql, args) => (await client.query(sql, args)).rows[0],
        run: async (sql, args) => (await client.query(sql, args)).rowCount,
      };
      const steps = body(ops);
      let step = steps.next();
      while (!step.done) step = steps.next(await step.value);
      await client.query('COMMIT');
      return step.value;
    } catch (e) {
      await client.query('ROLLBACK');
      throw e;
    } finally {
      client.release();
    }
  };
  return { p, t, one, all, tx, forUpdate: true, dialect: 'postgresql' };
}

function sqliteStore() {
  const Database = require('better-sqlite3');
  const db = new Database(process.env.SQLITE_PATH || 'bench.db', { timeout: 30000 });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  // The SQL above numbers its parameters ($1 on pg, ?1 here); better-sqlite3 takes only plain
  // '?' in order, so each statement is prepared once with its numbers turned into an order.
  const cache = new Map();
  const stmt = (sql) => {
    let entry = cache.get(sql);
    if (!entry) {
      const order = [...sql.matchAll(/\?(\d+)/g)].map((m) => Number(m[1]) - 1);
      const prepared = db.prepare(sql.replace(/\?\d+/g, '?'));
      const bind = (args) => order.map((i) => args[i]);
      entry = { get: (args) => prepared.get(...bind(args)), all: (args) => prepared.all(...bind(args)),
        run: (args) => prepared.run(...bind(args)) };
      cache.set(sql, entry);
    }
    return entry;
  };
  const p = (n) => `?${n}`;
  const t = (ms) => sqliteTime(ms);
  const one = async (sql, args) => stmt(sql).get(args);
  const all = async (sql, args) => stmt(sql).all(args);
  // better-sqlite3 is synchronous: the whole transaction runs at once, as BEGIN IMMEDIATE,
  // and a yielded query's result is handed straight back to the generator.
  const ops = {
    one: (sql, args) => stmt(sql).get(args),
    run: (sql, args) => stmt(sql).run(args).changes,
  };
  const tx = async (body) => db.transaction(() => {
    const steps = body(ops);
    let step = steps.next();
    while (!step.done) step = steps.next(step.value);
    return step.value;
  }).immediate();
  return { p, t, one, all, tx, forUpdate: false, dialect: 'sqlite', db };
}

// ------------------------------------------------------------------------- the app

function makeApp(store) {
  const { p, t } = store;
  const sql = {
    session: SESSION_SQL(p), questions: QUESTIONS_SQL(p), request: REQUEST_SQL(p),
    tokenHolder: TOKEN_HOLDER_SQL(p), open: OPEN_SQL(p), credentials: CREDENTIALS_SQL(p),
    lockUser: LOCK_USER_SQL(p, store.forUpdate), countOpen: COUNT_OPEN_SQL(p),
    insertRequest: INSERT_REQUEST_SQL(p), conflict: CONFLICT_SQL(p), accept: ACCEPT_SQL(p),
    insertSession: INSERT_SESSION_SQL(p),
  };
  const decoy = argon2.hash('peerview-decoy-password', { type: argon2.argon2id, memoryCost: 19456, timeCost: 2,
    parallelism: 1 });

  // Verify the token, then load the user (role, is_active) and whether the token was revoked.
  const auth = (...roles) => async (req, res, next) => {
    try {
      const h = req.headers.authorization || '';
      if (!h.startsWith('Bearer ')) throw notAuthenticated();
      let claims;
      try {
        claims = jwt.verify(h.slice(7), SECRET, { algorithms: ['HS256'] });
      } catch (e) {
        throw invalidToken();
      }
      for (const c of ['sub', 'iat', 'exp', 'jti']) if (claims[c] === undefined) throw invalidToken();
      const user = await store.one(sql.tokenHolder, [claims.sub, claims.jti]);
      if (!user || user.token_revoked === true || user.token_revoked === 1 || !user.is_active) throw invalidToken();
      if (user.tokens_valid_after !== null && claims.iat * 1000 < msOf(user.tokens_valid_after)) throw invalidToken();
      if (roles.length && !roles.includes(user.role)) throw forbidden(roles);
      req.user = user;
      next();
    } catch (e) {
      next(e);
    }
  };

  async function loadSession(id, now, user) {
    const s = await store.one(sql.session, [id]);
    const participant = s && (s.interviewer_id === user.id || s.interviewee_id === user.id);
    if (!s || !(participant || user.role === 'ADMIN')) {
      throw new HttpError(404, 'SESSION_NOT_FOUND', 'Interview session not found');
    }
    const questions = await store.all(sql.questions, [id]);
    return sessionRead(s, questions, user.role === 'ADMIN' || user.id === s.interviewer_id, now);
  }

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use(express.json({ limit: '1mb' }));

  app.get('/api/health', (req, res) => res.json({ status: 'ok', time: new Date().toISOString(), database: 'ok' }));

  app.get('/api/interview-requests/open', auth('INTERVIEWER', 'ADMIN'), async (req, res) => {
    const limit = req.query.limit === undefined ? 20 : Number(req.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw invalid('limit must be 1 to 100');
    const now = Date.now();
    const rows = await store.all(sql.open, [t(now), limit + 1]);
    const items = rows.slice(0, limit).map((r) => requestRead(r, now));
    const last = items[items.length - 1];
    res.json({ items, next_cursor: rows.length > limit ? cursorOf(last.scheduled_at, last.id) : null });
  });

  app.get('/api/interview-sessions/:id', auth(), async (req, res) => {
    res.json(await loadSession(req.params.id, Date.now(), req.user));
  });

  app.post('/api/interview-requests', auth('INTERVIEWEE'), async (req, res) => {
    const b = req.body || {};
    for (const k of Object.keys(b)) if (!CREATE_FIELDS.has(k)) throw invalid(`unknown field ${k}`);
    const category = typeof b.category === 'string' ? b.category.trim().toLowerCase() : '';
    if (category.length < 1 || category.length > 64) throw invalid('category must be 1 to 64 characters');
    if (!DIFFICULTIES.has(b.difficulty)) throw invalid('difficulty');
    const type = b.type === undefined ? 'CODING' : b.type;
    if (!TYPES.has(type)) throw invalid('type');
    const duration = b.duration_minutes === undefined ? 60 : b.duration_minutes;
    if (!Number.isInteger(duration) || duration < 15 || duration > 180) throw invalid('duration_minutes');
    const note = b.note === undefined ? '' : b.note;
    if (typeof note !== 'string' || note.length > 1000) throw invalid('note');
    if (typeof b.scheduled_at !== 'string' || !/(Z|[+-]\d\d:?\d\d)$/.test(b.scheduled_at)) {
      throw invalid('scheduled_at needs a time zone');
    }
    const parsed = Date.parse(b.scheduled_at);
    if (Number.isNaN(parsed)) throw invalid('scheduled_at');
    const scheduled = Math.floor(parsed / 1000) * 1000;
    const now = Date.now();
    const expires = scheduled - EXPIRY_BUFFER_MS;
    if (expires <= now) throw invalid('Requests must be scheduled more than 5:00:00 ahead', 'SCHEDULE_TOO_SOON');
    if (scheduled > now + MAX_DAYS_AHEAD * 86400000) throw invalid('Requests can be scheduled at most 60 days ahead', 'SCHEDULE_TOO_FAR');
    const id = crypto.randomUUID();
    const user = req.user;
    await store.tx(function* (q) {
      yield q.one(sql.lockUser, [user.id]);
      const { n } = yield q.one(sql.countOpen, [user.id, t(now)]);
      if (Number(n) >= MAX_OPEN_REQUESTS) {
        throw new HttpError(409, 'TOO_MANY_OPEN_REQUESTS', 'You already have 5 open requests');
      }
      yield q.run(sql.insertRequest, [id, user.id, category, b.difficulty, type, t(scheduled), duration, note,
        t(expires), t(now)]);
    });
    res.status(201).json({
      id, interviewee: { id: user.id, name: user.name }, category, difficulty: b.difficulty, type,
      scheduled_at: new Date(scheduled).toISOString(), duration_minutes: duration, note, status: 'OPEN',
      expires_at: new Date(expires).toISOString(), created_at: new Date(now).toISOString(), session_id: null,
    });
  });

  app.post('/api/interview-requests/:id/accept', auth('INTERVIEWER'), async (req, res) => {
    const now = Date.now();
    const user = req.user;
    const r = await store.one(sql.request, [req.params.id]);
    if (!r) throw new HttpError(404, 'REQUEST_NOT_FOUND', 'Interview request not found');
    if (r.interviewee_id === user.id) throw new HttpError(403, 'SELF_ACCEPT', 'You cannot accept your own request');
    const status = requestRead(r, now).status;
    if (status === 'EXPIRED') throw new HttpError(409, 'REQUEST_EXPIRED', 'The request has expired');
    if (status !== 'OPEN') throw new HttpError(409, 'REQUEST_NOT_OPEN', 'The request is no longer open', `The request is ${status}`);
    const start = msOf(r.scheduled_at);
    const end = start + r.duration_minutes * 60000;
    const sessionId = crypto.randomUUID();
    await store.tx(function* (q) {
      yield q.one(sql.lockUser, [user.id]);
      if (yield q.one(sql.conflict, [user.id, t(now - NO_SHOW_MS), t(now), t(end), t(start)])) {
        throw new HttpError(409, 'SCHEDULE_CONFLICT', 'You already have a session at that time');
      }
      if ((yield q.run(sql.accept, [t(now), r.id])) !== 1) {
        throw new HttpError(409, 'REQUEST_NOT_OPEN', 'The request is no longer open',
          'Another interviewer accepted this request first');
      }
      yield q.run(sql.insertSession, [sessionId, r.id, user.id, r.interviewee_id, r.category, r.difficulty, r.type,
        t(start), r.duration_minutes, t(end), t(now)]);
    });
    res.status(201).json(await loadSession(sessionId, now, user));
  });

  app.post('/api/auth/login', async (req, res) => {
    const b = req.body || {};
    if (typeof b.email !== 'string' || typeof b.password !== 'string' || !b.email || !b.password) {
      throw invalid('email and password are required');
    }
    const email = b.email.trim().toLowerCase();
    const u = await store.one(sql.credentials, [email]);
    // An unknown e-mail is checked against a decoy hash, so both failures cost the same.
    const ok = await argon2.verify(u ? u.password_hash : await decoy, b.password);
    if (!u || !ok || !u.is_active) {
      throw new HttpError(401, 'INVALID_CREDENTIALS', 'The e-mail or password is not correct');
    }
    const nowSeconds = Date.now() / 1000;
    const token = jwt.sign({ sub: u.id, jti: crypto.randomUUID().replace(/-/g, ''), iat: Math.round(nowSeconds * 1e6) / 1e6,
      exp: Math.floor(nowSeconds + TOKEN_MINUTES * 60) }, SECRET, { algorithm: 'HS256', noTimestamp: true });
    res.json({ user: userRead(u), access_token: token, token_type: 'bearer' });
  });

  app.get('/api/analytics/platform', auth('ADMIN'), async (req, res) => {
    res.json(await platformAnalytics(store, Date.now(), req.query.from, req.query.to));
  });

  app.use((err, req, res, next) => {
    if (res.headersSent) return next(err);
    if (err instanceof HttpError) {
      const kebab = err.code.toLowerCase().replace(/_/g, '-');
      return res.status(err.status).type('application/problem+json').json({
        type: `https://peerview.dev/problems/${kebab}`, title: err.title, status: err.status, detail: err.detail,
        code: err.code });
    }
    if (err.type === 'entity.parse.failed') {
      return res.status(422).type('application/problem+json').json({ type: 'about:blank', title: 'Invalid JSON',
        status: 422, detail: 'The body is not valid JSON', code: 'VALIDATION_ERROR' });
    }
    console.error(err);
    res.status(500).type('application/problem+json').json({ type: 'about:blank', title: 'Internal error',
      status: 500, detail: 'Internal error', code: 'INTERNAL_ERROR' });
  });
  return app;
}

// ------------------------------------------------------------------ analytics (docs/api.md §10)

async function platformAnalytics(store, now, from, to) {
  const { p, t } = store;
  const pg = store.dialect === 'postgresql';
  const range = (col, args) => {
    let where = '';
    if (from !== undefined) { args.push(t(Date.parse(from))); where += ` AND ${col} >= ${p(args.length)}`; }
    if (to !== undefined) { args.push(t(Date.parse(to))); where += ` AND ${col} < ${p(args.length)}`; }
    return where;
  };
  const nowT = t(now);
  const cutoff = t(now - NO_SHOW_MS);

  let args = [nowT];
  const funnel = await store.one(
    "SELECT count(*) AS created, " +
    "coalesce(sum(CASE WHEN status = 'ACCEPTED' THEN 1 ELSE 0 END), 0) AS accepted, " +
    `coalesce(sum(CASE WHEN status = 'EXPIRED' OR (status = 'OPEN' AND expires_at <= ${p(1)}) THEN 1 ELSE 0 END), 0) AS expired, ` +
    "coalesce(sum(CASE WHEN status = 'CANCELLED' THEN 1 ELSE 0 END), 0) AS cancelled, " +
    `coalesce(sum(CASE WHEN status = 'OPEN' AND expires_at > ${p(1)} THEN 1 ELSE 0 END), 0) AS open ` +
    `FROM interview_requests WHERE 1 = 1${range('created_at', args)}`, args);

  args = [];
  const acceptedWhere = `status = 'ACCEPTED' AND accepted_at IS NOT NULL${range('created_at', args)}`;
  let median = null;
  if (pg) {
    const row = await store.one('SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM accepted_at - created_at) / 60) AS m ' +
      `FROM interview_requests WHERE ${acceptedWhere}`, args);
    median = row.m === null ? null : Number(row.m);
  } else {
    const minutes = '(julianday(accepted_at) - julianday(created_at)) * 1440';
    const { n } = await store.one(`SELECT count(*) AS n FROM interview_requests WHERE ${acceptedWhere}`, args);
    if (n > 0) {
      const mid = await store.all(`SELECT ${minutes} AS m FROM interview_requests WHERE ${acceptedWhere} ` +
        `ORDER BY m LIMIT ${n % 2 ? 1 : 2} OFFSET ${Math.floor((n - 1) / 2)}`, args);
      median = mid.reduce((a, r) => a + r.m, 0) / mid.length;
    }
  }

  args = [nowT, cutoff];
  // Read-time truth: an overdue LIVE session is an AUTO_TIMEOUT completion, a missed
  // SCHEDULED one a NO_SHOW cancellation; completed and cancelled leave those out.
  const overdue = `(status = 'LIVE' AND hard_end_at <= ${p(1)})`;
  const missed = `(status = 'SCHEDULED' AND scheduled_at <= ${p(2)})`;
  const count = (cond) => `coalesce(sum(CASE WHEN ${cond} THEN 1 ELSE 0 END), 0)`;
  const sessions = await store.one('SELECT ' +
    `${count("status = 'COMPLETED' AND (end_reason IS NULL OR end_reason <> 'AUTO_TIMEOUT')")} AS completed, ` +
    `${count(`${overdue} OR (status = 'COMPLETED' AND end_reason = 'AUTO_TIMEOUT')`)} AS auto_timeout, ` +
    `${count(`${missed} OR (status = 'CANCELLED' AND end_reason = 'NO_SHOW')`)} AS no_show, ` +
    `${count("status = 'CANCELLED' AND (end_reason IS NULL OR end_reason <> 'NO_SHOW')")} AS cancelled, ` +
    `${count(`status = 'LIVE' AND hard_end_at > ${p(1)}`)} AS live, ` +
    `${count(`status = 'SCHEDULED' AND scheduled_at > ${p(2)}`)} AS scheduled ` +
    `FROM interview_sessions WHERE 1 = 1${range('created_at', args)}`, args);

  args = [];
  const ratings = await store.all('SELECT s.category AS category, count(f.id) AS count, avg(f.overall) AS average_overall ' +
    `FROM feedback f JOIN interview_sessions s ON s.id = f.session_id WHERE 1 = 1${range('s.created_at', args)} ` +
    'GROUP BY s.category ORDER BY s.category', args);

  args = [];
  const week = (col) => (pg ? `to_char(date_trunc('week', ${col} AT TIME ZONE 'UTC'), 'YYYY-MM-DD')`
    : `date(${col}, 'weekday 0', '-6 days')`);
  const rWhere = range('created_at', args);
  const sWhere = range('created_at', args);
  const sWhere2 = range('created_at', args);
  const active = await store.all(`SELECT week_start, count(DISTINCT user_id) AS users FROM (` +
    `SELECT interviewee_id AS user_id, ${week('created_at')} AS week_start FROM interview_requests WHERE 1 = 1${rWhere} ` +
    `UNION ALL SELECT interviewer_id, ${week('scheduled_at')} FROM interview_sessions WHERE 1 = 1${sWhere} ` +
    `UNION ALL SELECT interviewee_id, ${week('scheduled_at')} FROM interview_sessions WHERE 1 = 1${sWhere2}` +
    ') AS activity GROUP BY week_start ORDER BY week_start', args);

  const num = (v) => Number(v);
  const cents = (v) => (v === null || v === undefined ? null : Math.round(Number(v) * 100) / 100);
  return {
    funnel: { created: num(funnel.created), accepted: num(funnel.accepted), expired: num(funnel.expired),
      cancelled: num(funnel.cancelled), open: num(funnel.open) },
    median_minutes_to_accept: cents(median),
    sessions: Object.fromEntries(Object.entries(sessions).map(([k, v]) => [k, num(v)])),
    ratings_by_category: ratings.map((r) => ({ category: r.category, count: num(r.count),
      average_overall: cents(r.average_overall) })),
    active_users_weekly: active.map((r) => ({ week_start: r.week_start, users: num(r.users) })),
  };
}

// ------------------------------------------------------------------------- start

if (WORKERS > 1 && cluster.isPrimary) {
  for (let i = 0; i < WORKERS; i++) cluster.fork();
} else {
  const store = DB === 'pg' ? pgStore() : sqliteStore();
  makeApp(store).listen(PORT, '127.0.0.1');
}
