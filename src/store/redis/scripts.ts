/**
 * The Lua scripts of the Redis store. Each store operation is one script, so it is atomic and one
 * round trip. Every key a script touches shares the `{scope}` hash tag, so a script stays in one
 * slot and works on Redis Cluster.
 *
 * Layout (see keys.ts): per scope, records are hashes `P{s}:r:<key>` with the fields below, and
 * two sorted sets index them: `P{s}:i` (all scores 0, ordered by member = key, for `list`) and
 * `P{s}:x` (score = expiresAt, for `sweep`).
 *
 *   st  'p' (in_progress) or 'c' (completed)   fp  fingerprint     at  attempt
 *   ca  createdAt    ex  expiresAt    tk  token    lu  leaseUntil    oc  outcome    co  completedAt
 *
 * Time: ARGV[1] is the injected clock's `now`, or '' to use the server's clock (`TIME`; scripts
 * are replicated by effects since Redis 5, so reading TIME before writing is allowed). Every
 * decision compares stored fields with `now`; Redis TTLs only collect garbage. ARGV[2] is the
 * margin added to those TTLs: 0 with the server's clock (the TTL fires exactly at expiresAt),
 * generous with an injected clock, which need not advance with real time.
 */

const prelude = `
local function clock(arg)
  if arg ~= '' then return tonumber(arg) end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function int(n) return string.format('%d', n) end
-- Keep k for at least ms more milliseconds; never shortens an existing TTL.
local function keep(k, ms)
  local cur = redis.call('PTTL', k)
  if cur < 0 or cur < ms then redis.call('PEXPIRE', k, int(ms)) end
end
-- Make the record and its index entries outlive the logical expiry 'ex'.
local function retain(rec, idx, exp, member, ex, now, margin)
  local ms = ex - now + margin
  redis.call('PEXPIRE', rec, int(ms))
  redis.call('ZADD', exp, int(ex), member)
  keep(idx, ms)
  keep(exp, ms)
end
`;

/**
 * KEYS rec, idx, exp. ARGV now, margin, fingerprint, token, leaseMs, ttlMs, member.
 * Returns {'acquired', token, attempt, recovered, leaseUntil} | {'replay', outcome, completedAt,
 * expiresAt} | {'in_progress', attempt, leaseUntil, retryAfterMs} | {'mismatch', st}.
 */
export const BEGIN = `${prelude}
local rec, idx, exp = KEYS[1], KEYS[2], KEYS[3]
local now, margin = clock(ARGV[1]), tonumber(ARGV[2])
local fp, token, leaseMs, ttlMs, member = ARGV[3], ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7]
local r = redis.call('HMGET', rec, 'st', 'fp', 'at', 'ex', 'lu', 'oc', 'co')
local st = r[1]
if st and now < tonumber(r[4]) then
  if r[2] ~= fp then return {'mismatch', st} end
  if st == 'c' then return {'replay', r[6], r[7], r[4]} end
  local lu = tonumber(r[5])
  if now < lu then return {'in_progress', r[3], r[5], int(lu - now)} end
  -- Take-over of an expired lease: a new attempt, retained as long as a fresh begin.
  local attempt = tonumber(r[3]) + 1
  local ex = now + ttlMs
  redis.call('HSET', rec, 'tk', token, 'at', int(attempt), 'lu', int(now + leaseMs), 'ex', int(ex))
  retain(rec, idx, exp, member, ex, now, margin)
  return {'acquired', token, int(attempt), 1, int(now + leaseMs)}
end
-- Absent (or expired, which is the same): start afresh.
if st then redis.call('DEL', rec) end
local ex = now + ttlMs
redis.call('HSET', rec, 'st', 'p', 'fp', fp, 'at', '1', 'ca', int(now), 'ex', int(ex),
  'tk', token, 'lu', int(now + leaseMs))
redis.call('ZADD', idx, 0, member)
retain(rec, idx, exp, member, ex, now, margin)
return {'acquired', token, 1, 0, int(now + leaseMs)}
`;

/** The fencing test shared by commit, release and extend: live, in progress, current token. */
const fenced = `
local r = redis.call('HMGET', rec, 'st', 'tk', 'ex')
if r[1] ~= 'p' or r[2] ~= token or not (now < tonumber(r[3])) then return 0 end
`;

/** KEYS rec, idx, exp. ARGV now, margin, token, outcome, ttlMs, member. Returns 1, or 0 (lease lost). */
export const COMMIT = `${prelude}
local rec, idx, exp = KEYS[1], KEYS[2], KEYS[3]
local now, margin = clock(ARGV[1]), tonumber(ARGV[2])
local token, outcome, ttlMs, member = ARGV[3], ARGV[4], tonumber(ARGV[5]), ARGV[6]
${fenced}
local ex = now + ttlMs
redis.call('HDEL', rec, 'tk', 'lu')
redis.call('HSET', rec, 'st', 'c', 'oc', outcome, 'co', int(now), 'ex', int(ex))
retain(rec, idx, exp, member, ex, now, margin)
return 1
`;

/** KEYS rec, idx, exp. ARGV now, margin, token, member. Returns 1, or 0 (lease lost). */
export const RELEASE = `${prelude}
local rec, idx, exp = KEYS[1], KEYS[2], KEYS[3]
local now = clock(ARGV[1])
local token, member = ARGV[3], ARGV[4]
${fenced}
redis.call('DEL', rec)
redis.call('ZREM', idx, member)
redis.call('ZREM', exp, member)
return 1
`;

/** KEYS rec, idx, exp. ARGV now, margin, token, leaseMs, member. Returns leaseUntil, or 0 (lease lost). */
export const EXTEND = `${prelude}
local rec, idx, exp = KEYS[1], KEYS[2], KEYS[3]
local now, margin = clock(ARGV[1]), tonumber(ARGV[2])
local token, leaseMs, member = ARGV[3], tonumber(ARGV[4]), ARGV[5]
${fenced}
local lu = now + leaseMs
redis.call('HSET', rec, 'lu', int(lu))
if tonumber(r[3]) < lu then
  redis.call('HSET', rec, 'ex', int(lu))
  retain(rec, idx, exp, member, lu, now, margin)
end
return int(lu)
`;

/** KEYS rec. ARGV now, margin. Returns the record's fields as a flat list, or {} when absent or expired. */
export const GET = `${prelude}
local now = clock(ARGV[1])
local ex = redis.call('HGET', KEYS[1], 'ex')
if not ex or not (now < tonumber(ex)) then return {} end
return redis.call('HGETALL', KEYS[1])
`;

/** KEYS rec, idx, exp. ARGV now, margin, member. Returns 1 when a live record was removed, else 0. */
export const DELETE = `${prelude}
local now = clock(ARGV[1])
local ex = redis.call('HGET', KEYS[1], 'ex')
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[3])
redis.call('ZREM', KEYS[3], ARGV[3])
if ex and now < tonumber(ex) then return 1 end
return 0
`;

/**
 * KEYS idx. ARGV now, margin, state ('' | 'p' | 'c'), start ('-' or '(' .. the previous page's last key),
 * limit, maxScan, record key prefix.
 * Walks the index in key order, skipping expired and other-state records, until it has `limit`
 * records, reaches the end, or has examined `maxScan` entries (so one call stays short).
 * Returns {more, last, {{member, fields}...}}: `more` is 1 when index entries remain after `last`.
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
    local f = redis.call('HGETALL', recPrefix .. member)
    local st, ex
    for i = 1, #f, 2 do
      if f[i] == 'st' then st = f[i + 1] elseif f[i] == 'ex' then ex = f[i + 1] end
    end
    if st and ex and now < tonumber(ex) and (state == '' or state == st) then
      out[#out + 1] = {member, f}
    end
    if #out >= limit or scanned >= maxScan then break end
  end
  start = '(' .. last
end
local more = 0
if last and #redis.call('ZRANGEBYLEX', idx, '(' .. last, '+', 'LIMIT', 0, 1) > 0 then more = 1 end
return {more, last or '', out}
`;

/**
 * KEYS exp, idx. ARGV now, margin, batch, record key prefix.
 * Removes up to `batch` records whose expiresAt <= now (and index entries whose record Redis
 * already expired). Returns {removed, examined}.
 */
export const SWEEP = `${prelude}
local exp, idx = KEYS[1], KEYS[2]
local now, batch, recPrefix = clock(ARGV[1]), tonumber(ARGV[3]), ARGV[4]
local due = redis.call('ZRANGEBYSCORE', exp, '-inf', int(now), 'LIMIT', 0, batch)
local removed = 0
for _, member in ipairs(due) do
  local rec = recPrefix .. member
  local ex = redis.call('HGET', rec, 'ex')
  if ex and now < tonumber(ex) then
    redis.call('ZADD', exp, ex, member)
  else
    redis.call('DEL', rec)
    redis.call('ZREM', idx, member)
    redis.call('ZREM', exp, member)
    removed = removed + 1
  end
end
return {removed, #due}
`;
