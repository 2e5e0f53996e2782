/**
 * The Lua scripts of the Redis store. Each store operation is one script, so it is atomic and one
 * round trip. Every key a script touches shares the `{scope}` hash tag, so a script stays in one
 * slot and works on Redis Cluster.
 *
 * Layout (see keys.ts): per scope, each record is a string `P{s}:r:<key>` holding MessagePack
 * values (`cmsgpack`, built into Redis) in this order:
 *
 *   version (1), state ('p' in_progress | 'c' completed), fingerprint, attempt, createdAt,
 *   expiresAt, token, leaseUntil, outcome, completedAt
 *
 * (unused fields are '' or 0), and one sorted set `P{s}:i` (all scores 0, member = key) lists the
 * scope's keys in key order for `list` and `sweep`. The hot path is kept to the least Redis work:
 * `begin` is GET + SET (+ ZADD for a new key), `commit` is GET + SET. Index entries of records
 * that Redis expired stay until `sweep` walks the index.
 *
 * Time: ARGV[1] is the injected clock's `now`, or '' to use the server's clock (`TIME`; scripts
 * are replicated by effects since Redis 5, so reading TIME before writing is allowed). Every
 * decision compares stored times with `now`; Redis TTLs only collect garbage. ARGV[2] is the
 * margin added to those TTLs: 0 with the server's clock (the TTL fires exactly at expiresAt),
 * generous with an injected clock, which need not advance with real time.
 */

const prelude = `
local function clock(arg)
  if arg ~= '' then return tonumber(arg) end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
-- The record at k as a table, or nil when there is none.
local function load(k)
  local v = redis.call('GET', k)
  if not v then return nil end
  local ver, st, fp, at, ca, ex, tk, lu, oc, co = cmsgpack.unpack(v)
  if ver ~= 1 then error('oncekey: unknown record version at ' .. k) end
  return {st = st, fp = fp, at = at, ca = ca, ex = ex, tk = tk, lu = lu, oc = oc, co = co}
end
-- Write r, kept by Redis until its expiresAt (plus margin) has passed. On the server's clock
-- (margin 0) the expiry is absolute, so it is exactly expiresAt: a relative PX is counted from
-- Redis' own command time, which may differ from TIME by a millisecond.
local function save(k, r, now, margin)
  local v = cmsgpack.pack(1, r.st, r.fp, r.at, r.ca, r.ex, r.tk, r.lu, r.oc, r.co)
  if margin == 0 then
    redis.call('SET', k, v, 'PXAT', string.format('%d', r.ex))
  else
    redis.call('SET', k, v, 'PX', string.format('%d', r.ex - now + margin))
  end
end
local function fields(r)
  return {r.st, r.fp, r.at, r.ca, r.ex, r.tk, r.lu, r.oc, r.co}
end
`;

/**
 * KEYS rec, idx. ARGV now, margin, fingerprint, token, leaseMs, ttlMs, member.
 * Returns {'acquired', token, attempt, recovered, leaseUntil} | {'replay', outcome, completedAt,
 * expiresAt} | {'in_progress', attempt, leaseUntil, retryAfterMs} | {'mismatch', state}.
 */
export const BEGIN = `${prelude}
local now, margin = clock(ARGV[1]), tonumber(ARGV[2])
local fp, token, leaseMs, ttlMs = ARGV[3], ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
local r = load(KEYS[1])
if r and now < r.ex then
  if r.fp ~= fp then return {'mismatch', r.st} end
  if r.st == 'c' then return {'replay', r.oc, r.co, r.ex} end
  if now < r.lu then return {'in_progress', r.at, r.lu, r.lu - now} end
  -- Take-over of an expired lease: a new attempt, retained as long as a fresh begin.
  r.at, r.tk, r.lu, r.ex = r.at + 1, token, now + leaseMs, now + ttlMs
  save(KEYS[1], r, now, margin)
  return {'acquired', token, r.at, 1, r.lu}
end
-- Absent, or expired (which is the same): start afresh. An expired record is still indexed.
if not r then redis.call('ZADD', KEYS[2], 0, ARGV[7]) end
save(KEYS[1], {st = 'p', fp = fp, at = 1, ca = now, ex = now + ttlMs, tk = token, lu = now + leaseMs, oc = '', co = 0},
  now, margin)
return {'acquired', token, 1, 0, now + leaseMs}
`;

/** The fencing test shared by commit, release and extend: live, in progress, current token. */
const fenced = `
local r = load(KEYS[1])
if not r or not (now < r.ex) or r.st ~= 'p' or r.tk ~= token then return 0 end
`;

/** KEYS rec. ARGV now, margin, token, outcome, ttlMs. Returns 1, or 0 (lease lost). */
export const COMMIT = `${prelude}
local now, margin = clock(ARGV[1]), tonumber(ARGV[2])
local token = ARGV[3]
${fenced}
r.st, r.oc, r.co, r.ex, r.tk, r.lu = 'c', ARGV[4], now, now + tonumber(ARGV[5]), '', 0
save(KEYS[1], r, now, margin)
return 1
`;

/** KEYS rec, idx. ARGV now, margin, token, member. Returns 1, or 0 (lease lost). */
export const RELEASE = `${prelude}
local now = clock(ARGV[1])
local token = ARGV[3]
${fenced}
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[4])
return 1
`;

/** KEYS rec. ARGV now, margin, token, leaseMs. Returns leaseUntil, or 0 (lease lost). */
export const EXTEND = `${prelude}
local now, margin = clock(ARGV[1]), tonumber(ARGV[2])
local token = ARGV[3]
${fenced}
r.lu = now + tonumber(ARGV[4])
if r.ex < r.lu then r.ex = r.lu end
save(KEYS[1], r, now, margin)
return r.lu
`;

/** KEYS rec. ARGV now, margin. Returns the record's fields (see \`fields\`), or {} when absent or expired. */
export const GET = `${prelude}
local now = clock(ARGV[1])
local r = load(KEYS[1])
if not r or not (now < r.ex) then return {} end
return fields(r)
`;

/** KEYS rec, idx. ARGV now, margin, member. Returns 1 when a live record was removed, else 0. */
export const DELETE = `${prelude}
local now = clock(ARGV[1])
local r = load(KEYS[1])
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[3])
if r and now < r.ex then return 1 end
return 0
`;

/**
 * KEYS idx. ARGV now, margin, state ('' | 'p' | 'c'), start ('-' or '(' .. the previous page's
 * last key), limit, maxScan, record key prefix.
 * Walks the index in key order, skipping expired and other-state records, until it has \`limit\`
 * records, reaches the end, or has examined \`maxScan\` entries (so one call stays short).
 * Returns {more, last, {{member, fields}...}}: \`more\` is 1 when index entries remain after \`last\`.
 */
export const LIST = `${prelude}
local idx = KEYS[1]
local now, state, start = clock(ARGV[1]), ARGV[3], ARGV[4]
local limit, maxScan, recPrefix = tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7]
local out, scanned, last = {}, 0, false
while #out < limit and scanned < maxScan do
  local chunk = redis.call('ZRANGEBYLEX', idx, start, '+', 'LIMIT', 0, math.min(limit - #out + 16, maxScan - scanned))
  if #chunk == 0 then break end
  for _, member in ipairs(chunk) do
    scanned = scanned + 1
    last = member
    local r = load(recPrefix .. member)
    if r and now < r.ex and (state == '' or state == r.st) then out[#out + 1] = {member, fields(r)} end
    if #out >= limit or scanned >= maxScan then break end
  end
  start = '(' .. last
end
local more = 0
if last and #redis.call('ZRANGEBYLEX', idx, '(' .. last, '+', 'LIMIT', 0, 1) > 0 then more = 1 end
return {more, last or '', out}
`;

/**
 * KEYS idx. ARGV now, margin, start ('-' or '(' .. last key examined), limit, maxScan, record key
 * prefix.
 * Walks the index in key order and removes records whose expiresAt <= now, and index entries
 * whose record Redis already expired, until it removed \`limit\`, examined \`maxScan\` entries, or
 * reached the end. Returns {removed, last, done}.
 */
export const SWEEP = `${prelude}
local idx = KEYS[1]
local now, start = clock(ARGV[1]), ARGV[3]
local limit, maxScan, recPrefix = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
local removed, scanned, last = 0, 0, false
while removed < limit and scanned < maxScan do
  local chunk = redis.call('ZRANGEBYLEX', idx, start, '+', 'LIMIT', 0, math.min(256, maxScan - scanned))
  if #chunk == 0 then return {removed, last or '', 1} end
  for _, member in ipairs(chunk) do
    scanned = scanned + 1
    last = member
    local rec = recPrefix .. member
    local r = load(rec)
    if not r or not (now < r.ex) then
      redis.call('DEL', rec)
      redis.call('ZREM', idx, member)
      removed = removed + 1
    end
    if removed >= limit or scanned >= maxScan then break end
  end
  start = '(' .. last
end
return {removed, last or '', 0}
`;
