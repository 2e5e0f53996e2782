/**
 * The Lua scripts of the Redis store. Each is atomic and one round trip, and every key a script
 * touches shares the `{scope}` hash tag, so a script stays in one slot and works on Redis Cluster.
 *
 * A record is one string at `P{s}:r:<key>` (see keys.ts and record-value.ts for the layout,
 * which both sides read and write):
 *
 *   2:<state>:<attempt>:<createdAt>:<expiresAt>:<leaseUntil>:<completedAt>:<fpBytes>:<tokenBytes>:<fingerprint><token><outcome>
 *
 * state `p` (in progress) or `c` (completed), or `f`: a fresh in-progress record written by the
 * plain `SET … NX PX (ttlMs - 1) GET` of `begin`'s fast path (record-value.ts), which cannot read
 * the server's clock. Its fields hold ttlMs and leaseMs instead of times, and the times follow
 * from the key's expiry (PEXPIRETIME, on the server's clock): expiresAt = PEXPIRETIME + 1,
 * createdAt = expiresAt - ttlMs, leaseUntil = createdAt + leaseMs. The first script that writes
 * the record turns it into `p` or `c` with absolute times. Records of version 1 (MessagePack) are
 * still read.
 *
 * Time: ARGV[1] is the injected clock's `now`, or '' to use the server's clock (`TIME`; scripts
 * are replicated by effects since Redis 5, so reading TIME before writing is allowed). Every
 * decision compares stored times with `now`; Redis TTLs collect garbage. ARGV[2] is the margin
 * added to those TTLs: 0 with the server's clock, where the key's expiry is `expiresAt - 1`
 * (Redis drops a key once its time is past the expiry, so at `expiresAt` exactly: a key that is
 * there is live), generous with an injected clock, which need not advance with real time.
 */

const prelude = `
local function clock(arg)
  if arg ~= '' then return tonumber(arg) end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
-- The expiresAt of a fresh record (state f): its key expires at expiresAt - 1.
local function fresh_expiry(k)
  return redis.call('PEXPIRETIME', k) + 1
end
-- The record at k as a table, or nil when there is none.
local function load(k)
  local v = redis.call('GET', k)
  if not v then return nil end
  if string.byte(v, 1) ~= 50 then
    local ver, st, fp, at, ca, ex, tk, lu, oc, co = cmsgpack.unpack(v)
    if ver ~= 1 then error('oncekey: unknown record version at ' .. k) end
    return {st = st, fp = fp, at = at, ca = ca, ex = ex, tk = tk, lu = lu, oc = oc, co = co}
  end
  local st, at, ca, ex, lu, co, fl, tl, i = string.match(v, '^2:(%a):(%d+):(%d*):(%d*):(%d*):(%d*):(%d+):(%d+):()')
  if not st then error('oncekey: unreadable record at ' .. k) end
  fl, tl = tonumber(fl), tonumber(tl)
  local r = {st = st, at = tonumber(at), fp = string.sub(v, i, i + fl - 1), tk = string.sub(v, i + fl, i + fl + tl - 1),
    oc = string.sub(v, i + fl + tl), co = tonumber(co) or 0}
  if st == 'f' then
    r.st = 'p'
    r.ex = fresh_expiry(k)
    r.ca = r.ex - tonumber(ca)
    r.lu = r.ca + tonumber(lu)
  else
    r.ca, r.ex, r.lu = tonumber(ca), tonumber(ex), tonumber(lu) or 0
  end
  return r
end
-- Write the record string v whose expiresAt is ex, kept by Redis until then (plus margin).
local function put(k, v, ex, now, margin)
  if margin == 0 then
    -- Absolute: Redis counts a relative PX from its own command time, which may differ from
    -- TIME by a millisecond. PXAT at or before now would drop the key at once (ttl 1 ms).
    local at = ex - 1
    if at <= now then at = ex end
    redis.call('SET', k, v, 'PXAT', string.format('%d', at))
  else
    redis.call('SET', k, v, 'PX', string.format('%d', ex - now + margin))
  end
end
local function save(k, r, now, margin)
  put(k, string.format('2:%s:%d:%d:%d:%d:%d:%d:%d:', r.st, r.at, r.ca, r.ex, r.lu, r.co, #r.fp, #r.tk) .. r.fp .. r.tk .. r.oc,
    r.ex, now, margin)
end
local function fields(r)
  return {r.st, r.fp, r.at, r.ca, r.ex, r.tk, r.lu, r.oc, r.co}
end
`;

/**
 * KEYS rec. ARGV now, margin, fingerprint, token, leaseMs, ttlMs.
 * Returns {'acquired', token, attempt, recovered, leaseUntil} | {'replay', outcome, completedAt,
 * expiresAt} | {'in_progress', attempt, leaseUntil, retryAfterMs} | {'mismatch', state}.
 * `begin` runs it when its fast path found a record it cannot judge alone (see index.ts).
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
-- Absent, or expired (which is the same): start afresh.
save(KEYS[1], {st = 'p', fp = fp, at = 1, ca = now, ex = now + ttlMs, tk = token, lu = now + leaseMs, oc = '', co = 0},
  now, margin)
return {'acquired', token, 1, 0, now + leaseMs}
`;

/** The fencing test shared by commit, release and extend: live, in progress, current token. */
const fenced = `
local r = load(KEYS[1])
if not r or not (now < r.ex) or r.st ~= 'p' or r.tk ~= token then return 0 end
`;

/**
 * KEYS rec. ARGV now, margin, token, outcome, ttlMs. Returns 1, or 0 (lease lost).
 * The hot path: an in-progress record of version 2 is read field by field from its header and
 * written back by one format, without the generic load and save (about a sixth less Redis CPU
 * per commit, measured); other records take the generic path.
 */
export const COMMIT = `${prelude}
local now, margin = clock(ARGV[1]), tonumber(ARGV[2])
local token, ttlMs = ARGV[3], tonumber(ARGV[5])
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
if string.byte(v, 1) == 50 then
  local st, at, ca, ex, fl, tl, i = string.match(v, '^2:(%a):(%d+):(%d*):(%d*):%d*:%d*:(%d+):(%d+):()')
  if st ~= 'f' and st ~= 'p' then return 0 end
  fl, tl = tonumber(fl), tonumber(tl)
  if string.sub(v, i + fl, i + fl + tl - 1) ~= token then return 0 end
  if st == 'f' then
    -- Fresh: live while Redis holds it; its ca field is ttlMs, createdAt follows from the expiry.
    ca = fresh_expiry(KEYS[1]) - tonumber(ca)
  elseif not (now < tonumber(ex)) then
    return 0
  end
  ex = now + ttlMs
  put(KEYS[1], string.format('2:c:%s:%d:%d:0:%d:%d:0:', at, ca, ex, now, fl) .. string.sub(v, i, i + fl - 1) .. ARGV[4], ex, now, margin)
  return 1
end
${fenced}
r.st, r.oc, r.co, r.ex, r.tk, r.lu = 'c', ARGV[4], now, now + ttlMs, '', 0
save(KEYS[1], r, now, margin)
return 1
`;

/** KEYS rec. ARGV now, margin, token. Returns 1, or 0 (lease lost). */
export const RELEASE = `${prelude}
local now = clock(ARGV[1])
local token = ARGV[3]
${fenced}
redis.call('DEL', KEYS[1])
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

/** KEYS rec. ARGV now, margin. Removes the record whatever its state; returns 1 when it was live, else 0. */
export const DELETE = `${prelude}
local now = clock(ARGV[1])
local r = load(KEYS[1])
redis.call('DEL', KEYS[1])
if r and now < r.ex then return 1 end
return 0
`;

/**
 * KEYS records of one scope. ARGV now, margin, state ('' | 'p' | 'c').
 * Returns one entry per key, in order: the record's fields when it is live and in \`state\`, else 0.
 */
export const READ = `${prelude}
local now, state = clock(ARGV[1]), ARGV[3]
local out = {}
for i, k in ipairs(KEYS) do
  local r = load(k)
  if r and now < r.ex and (state == '' or state == r.st) then out[i] = fields(r) else out[i] = 0 end
end
return out
`;

/** KEYS records of one scope. ARGV now, margin. Removes the expired ones; returns how many. */
export const SWEEP = `${prelude}
local now = clock(ARGV[1])
local removed = 0
for _, k in ipairs(KEYS) do
  local r = load(k)
  if r and not (now < r.ex) then
    redis.call('DEL', k)
    removed = removed + 1
  end
end
return removed
`;
