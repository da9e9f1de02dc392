/**
 * The Lua scripts of the Redis provider. Each state change of a job is one script, so it is atomic:
 * no reader ever sees a job acked but still pending, or dead but still leased.
 *
 * Keys of one queue, all under the hash tag `{queue}` so a cluster keeps them in one slot
 * (`B` = `<prefix>:{<queue>}`):
 *   B:prios        sorted set of the priorities in use (score = priority); one stream per priority
 *   B:s:<prio>     the stream of that priority; entries carry only the job id; consumer group `kairos`
 *   B:job:<id>     hash per job: data (immutable JSON), attempt, state, prio, entry, runAt, lease,
 *                  lastError, dkey, error, deadAt — what the UI inspects
 *   B:delayed      sorted set, score = run time; moved to the streams when due (by fetch)
 *   B:active       sorted set, score = lease expiry; an expired lease is reclaimed by the next fetch
 *   B:dead         sorted set, score = dead-at time
 *   B:dedup:<key>  string, the id of the job holding a dedup key until it is acked or dead-lettered
 *   B:signal       a short stream a long-polling fetch blocks on; an enqueue, retry or replay adds to
 *                  it when B:idle says a fetch found nothing since the last signal
 *   B:idle         set by a fetch that leased nothing (it is about to block), deleted by the next signal
 *
 * The lease lives in `B:active` rather than in the stream's idle time, so every job keeps exactly the
 * lease it was fetched with and a heartbeat extends one job without touching others; the stream's
 * pending list still records the delivery (XCLAIM moves it on reclaim, XACK ends it).
 */

const COMMON = `
local base = KEYS[1]
-- Priorities whose stream and group this call has already made sure of.
local known_prios = {}
local function stream_of(prio)
  local s = base .. ':s:' .. prio
  if not known_prios[prio] then
    known_prios[prio] = true
    if redis.call('ZADD', base .. ':prios', 'NX', prio, prio) == 1 then
      redis.pcall('XGROUP', 'CREATE', s, 'kairos', '0', 'MKSTREAM')
    end
  end
  return s
end
local function push(id, prio, jk)
  local entry = redis.call('XADD', stream_of(prio), '*', 'id', id)
  redis.call('HSET', jk, 'state', 'waiting', 'entry', entry)
end
local function unstream(jk)
  local f = redis.call('HMGET', jk, 'prio', 'entry')
  if f[1] and f[2] and f[2] ~= '' then
    local s = base .. ':s:' .. f[1]
    redis.call('XACK', s, 'kairos', f[2])
    redis.call('XDEL', s, f[2])
    redis.call('HSET', jk, 'entry', '')
  end
end
local function release_dedup_key(dkey, id)
  if dkey and dkey ~= '' then
    local dk = base .. ':dedup:' .. dkey
    if redis.call('GET', dk) == id then redis.call('DEL', dk) end
  end
end
local function release_dedup(jk, id)
  release_dedup_key(redis.call('HGET', jk, 'dkey'), id)
end
-- A command over a long argument list, in slices: Lua's unpack stops at a few thousand values.
local function bulk(command, key, list, prefixArg)
  for i = 1, #list, 1000 do
    local last = math.min(i + 999, #list)
    if prefixArg then redis.call(command, key, prefixArg, unpack(list, i, last)) else redis.call(command, key, unpack(list, i, last)) end
  end
end
-- Only a fetch that found nothing blocks on the signal stream, and it read the stream's last id in
-- the same script that set B:idle: so while every fetch finds work, a signal is one DEL, not an XADD.
local function signal()
  if redis.call('DEL', base .. ':idle') == 1 then
    redis.call('XADD', base .. ':signal', 'MAXLEN', '~', 100, '*', 'n', '1')
  end
end
`;

/** ARGV: now, then per job: id, prio, runAt, dedupKey ('' = none), data, attempt, lastError. Returns [id, deduplicated(0/1)] per job. */
export const ENQUEUE = `${COMMON}
local now = tonumber(ARGV[1])
local out = {}
local delayed = {}
for i = 2, #ARGV, 7 do
  local id, prio, runAt, dkey, data, attempt, lastError = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 3], ARGV[i + 4], ARGV[i + 5], ARGV[i + 6]
  local jk = base .. ':job:' .. id
  local holder = false
  if redis.call('EXISTS', jk) == 1 then
    holder = id
  elseif dkey ~= '' then
    local dk = base .. ':dedup:' .. dkey
    if not redis.call('SET', dk, id, 'NX') then holder = redis.call('GET', dk) end
  end
  if holder then
    out[#out + 1] = holder
    out[#out + 1] = 1
  else
    local state, entry = 'delayed', ''
    if runAt > now then
      delayed[#delayed + 1] = runAt
      delayed[#delayed + 1] = id
    else
      state = 'waiting'
      entry = redis.call('XADD', stream_of(prio), '*', 'id', id)
    end
    redis.call('HSET', jk, 'data', data, 'attempt', attempt, 'prio', prio, 'runAt', runAt, 'dkey', dkey,
      'lastError', lastError, 'state', state, 'entry', entry)
    out[#out + 1] = id
    out[#out + 1] = 0
  end
end
if #delayed > 0 then bulk('ZADD', base .. ':delayed', delayed) end
signal()
return out
`;

/**
 * Completes each job of `ack_ids` whoever holds its lease now: at-least-once makes a late ack
 * harmless. The stream, active-set and key deletions are one command each for the whole batch.
 * Leaves `acked`, how many of the jobs existed.
 */
const ACK_BODY = `
local entriesByPrio = {}
local ids = {}
local keys = {}
for _, id in ipairs(ack_ids) do
  local jk = base .. ':job:' .. id
  local f = redis.call('HMGET', jk, 'state', 'prio', 'entry', 'dkey')
  if f[1] then
    if f[2] and f[3] and f[3] ~= '' then
      local list = entriesByPrio[f[2]]
      if not list then
        list = {}
        entriesByPrio[f[2]] = list
      end
      list[#list + 1] = f[3]
    end
    release_dedup_key(f[4], id)
    if f[1] == 'delayed' then redis.call('ZREM', base .. ':delayed', id) end
    ids[#ids + 1] = id
    keys[#keys + 1] = jk
  end
end
for prio, entries in pairs(entriesByPrio) do
  local s = base .. ':s:' .. prio
  bulk('XACK', s, entries, 'kairos')
  bulk('XDEL', s, entries)
end
if #ids > 0 then
  bulk('ZREM', base .. ':active', ids)
  for i = 1, #keys, 1000 do redis.call('DEL', unpack(keys, i, math.min(i + 999, #keys))) end
end
local acked = #ids
`;

/**
 * Uses now, max, leaseMs, consumer. Moves due delayed jobs to their streams, reclaims expired
 * leases, then reads new entries from the highest priority down. Returns
 * [nextWakeMs (-1 = none), signalLastId, then per lease: token, attempt, data, lastError, runAt].
 * The wake time and signal id are only looked up when nothing was leased: only a caller about to
 * long-poll needs them, and they were a third of the script's commands on a busy queue.
 */
const FETCH_BODY = `
local delayedKey = base .. ':delayed'
local activeKey = base .. ':active'
local due = redis.call('ZRANGEBYSCORE', delayedKey, '-inf', now, 'LIMIT', 0, 1000)
if #due > 0 then
  for _, id in ipairs(due) do
    local jk = base .. ':job:' .. id
    local prio = redis.call('HGET', jk, 'prio')
    if prio then push(id, prio, jk) end
  end
  bulk('ZREM', delayedKey, due)
end
local out = { -1, '0-0' }
local n = 0
local leased = {}
-- f: the job hash's attempt, data, lastError, runAt (HMGET order below, from index 2).
local function lease(id, jk, entry, f)
  local attempt = tonumber(f[2] or 0) + 1
  local token = id .. '|' .. entry .. '|' .. attempt
  redis.call('HSET', jk, 'state', 'active', 'lease', token, 'attempt', attempt)
  leased[#leased + 1] = now + leaseMs
  leased[#leased + 1] = id
  out[#out + 1] = token
  out[#out + 1] = attempt
  out[#out + 1] = f[3]
  out[#out + 1] = f[4] or ''
  out[#out + 1] = f[5]
  n = n + 1
end
if max > 0 then
  local expired = redis.call('ZRANGEBYSCORE', activeKey, '-inf', now, 'LIMIT', 0, max)
  for _, id in ipairs(expired) do
    local jk = base .. ':job:' .. id
    local f = redis.call('HMGET', jk, 'entry', 'attempt', 'data', 'lastError', 'runAt', 'prio', 'state')
    if f[6] and f[1] and f[1] ~= '' and f[7] == 'active' then
      redis.call('XCLAIM', base .. ':s:' .. f[6], 'kairos', consumer, 0, f[1], 'JUSTID')
      lease(id, jk, f[1], f)
    else
      redis.call('ZREM', activeKey, id)
    end
  end
end
if n < max then
  local prios = redis.call('ZREVRANGE', base .. ':prios', 0, -1)
  for _, prio in ipairs(prios) do
    local s = base .. ':s:' .. prio
    local res = redis.call('XREADGROUP', 'GROUP', 'kairos', consumer, 'COUNT', max - n, 'STREAMS', s, '>')
    if res then
      for _, e in ipairs(res[1][2]) do
        local entry, id = e[1], e[2][2]
        local jk = base .. ':job:' .. id
        local f = redis.call('HMGET', jk, 'entry', 'attempt', 'data', 'lastError', 'runAt')
        if f[1] == entry then
          lease(id, jk, entry, f)
        else
          -- A stale entry (its job was purged or acked while waiting): drop it.
          redis.call('XACK', s, 'kairos', entry)
          redis.call('XDEL', s, entry)
        end
      end
    end
    if n >= max then break end
  end
end
if n > 0 then
  bulk('ZADD', activeKey, leased)
  return out
end
local wake = -1
local d = redis.call('ZRANGE', delayedKey, 0, 0, 'WITHSCORES')
if d[2] then wake = tonumber(d[2]) end
local a = redis.call('ZRANGE', activeKey, 0, 0, 'WITHSCORES')
if a[2] and (wake < 0 or tonumber(a[2]) < wake) then wake = tonumber(a[2]) end
out[1] = wake
redis.call('SET', base .. ':idle', '1')
local last = redis.call('XREVRANGE', base .. ':signal', '+', '-', 'COUNT', 1)
if last[1] then out[2] = last[1][1] end
return out
`;

/** ARGV: now, max, leaseMs, consumer. See FETCH_BODY. */
export const FETCH = `${COMMON}
local now = tonumber(ARGV[1])
local max = tonumber(ARGV[2])
local leaseMs = tonumber(ARGV[3])
local consumer = ARGV[4]
${FETCH_BODY}`;

/** ARGV: id… (the acks of one event-loop turn for this queue). Returns how many jobs existed. */
export const ACK = `${COMMON}
local ack_ids = ARGV
${ACK_BODY}
return acked
`;

/** ARGV: id, token, now, runAt, error. Returns 0 when the lease was lost (another worker holds the job). */
export const RETRY = `${COMMON}
local id, token, now, runAt, err = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local jk = base .. ':job:' .. id
if redis.call('HGET', jk, 'lease') ~= token or redis.call('HGET', jk, 'state') ~= 'active' then return 0 end
unstream(jk)
redis.call('ZREM', base .. ':active', id)
redis.call('HSET', jk, 'lastError', err, 'runAt', runAt, 'lease', '')
if runAt > now then
  redis.call('HSET', jk, 'state', 'delayed')
  redis.call('ZADD', base .. ':delayed', runAt, id)
else
  push(id, redis.call('HGET', jk, 'prio'), jk)
end
signal()
return 1
`;

/** ARGV: id, token, now, error. Returns 0 when the lease was lost. */
export const DEAD = `${COMMON}
local id, token, now, err = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local jk = base .. ':job:' .. id
if redis.call('HGET', jk, 'lease') ~= token or redis.call('HGET', jk, 'state') ~= 'active' then return 0 end
unstream(jk)
release_dedup(jk, id)
redis.call('ZREM', base .. ':active', id)
redis.call('HSET', jk, 'state', 'dead', 'error', err, 'lastError', err, 'deadAt', now, 'lease', '')
redis.call('ZADD', base .. ':dead', now, id)
return 1
`;

/** ARGV: id, token, leaseUntil. Returns 1 when the lease is still this caller's and was extended. */
export const EXTEND = `
local base = KEYS[1]
local id, token, untilMs = ARGV[1], ARGV[2], ARGV[3]
local jk = base .. ':job:' .. id
if redis.call('HGET', jk, 'lease') ~= token or redis.call('HGET', jk, 'state') ~= 'active' then return 0 end
redis.call('ZADD', base .. ':active', 'XX', untilMs, id)
return 1
`;

/** ARGV: now, then ids (none = every dead job). Re-enqueues with attempt 0. Returns the count. */
export const REPLAY = `${COMMON}
local now = tonumber(ARGV[1])
local ids = {}
if #ARGV == 1 then ids = redis.call('ZRANGE', base .. ':dead', 0, -1) else for i = 2, #ARGV do ids[#ids + 1] = ARGV[i] end end
local n = 0
for _, id in ipairs(ids) do
  if redis.call('ZREM', base .. ':dead', id) == 1 then
    local jk = base .. ':job:' .. id
    redis.call('HSET', jk, 'attempt', 0, 'runAt', now)
    redis.call('HDEL', jk, 'error', 'deadAt')
    local dkey = redis.call('HGET', jk, 'dkey')
    if dkey and dkey ~= '' then redis.call('SET', base .. ':dedup:' .. dkey, id, 'NX') end
    push(id, redis.call('HGET', jk, 'prio'), jk)
    n = n + 1
  end
end
if n > 0 then signal() end
return n
`;

/** ARGV: ids (none = every dead job). Deletes dead jobs. Returns the count. */
export const PURGE = `
local base = KEYS[1]
local ids = {}
if #ARGV == 0 then ids = redis.call('ZRANGE', base .. ':dead', 0, -1) else ids = ARGV end
local n = 0
for _, id in ipairs(ids) do
  if redis.call('ZREM', base .. ':dead', id) == 1 then
    redis.call('DEL', base .. ':job:' .. id)
    n = n + 1
  end
end
return n
`;

/** Returns [waiting, active, delayed, dead, oldestWaitingAgeMs (-1 = none)]. */
export const STATS = `
local base = KEYS[1]
local waiting = 0
local oldest = -1
local prios = redis.call('ZRANGE', base .. ':prios', 0, -1)
for _, prio in ipairs(prios) do
  local s = base .. ':s:' .. prio
  local len = redis.call('XLEN', s)
  if len > 0 then
    local pending = redis.call('XPENDING', s, 'kairos')
    waiting = waiting + len - tonumber(pending[1])
    local groups = redis.call('XINFO', 'GROUPS', s)
    for _, g in ipairs(groups) do
      local name, last = nil, nil
      for i = 1, #g, 2 do
        if g[i] == 'name' then name = g[i + 1] end
        if g[i] == 'last-delivered-id' then last = g[i + 1] end
      end
      if name == 'kairos' and last then
        local first = redis.call('XRANGE', s, '(' .. last, '+', 'COUNT', 1)
        if first[1] then
          local ms = tonumber(string.match(first[1][1], '^(%d+)'))
          if oldest < 0 or ms < oldest then oldest = ms end
        end
      end
    end
  end
end
local age = -1
if oldest >= 0 then
  local t = redis.call('TIME')
  age = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - oldest
  if age < 0 then age = 0 end
end
return { waiting, redis.call('ZCARD', base .. ':active'), redis.call('ZCARD', base .. ':delayed'), redis.call('ZCARD', base .. ':dead'), age }
`;

/** ARGV: offset, limit. Ids of waiting jobs in delivery order (highest priority first, FIFO within). */
export const LIST_WAITING = `
local base = KEYS[1]
local offset, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local out = {}
local skipped = 0
local prios = redis.call('ZREVRANGE', base .. ':prios', 0, -1)
for _, prio in ipairs(prios) do
  local s = base .. ':s:' .. prio
  local last = '0-0'
  local groups = redis.call('XINFO', 'GROUPS', s)
  for _, g in ipairs(groups) do
    local name, l = nil, nil
    for i = 1, #g, 2 do
      if g[i] == 'name' then name = g[i + 1] end
      if g[i] == 'last-delivered-id' then l = g[i + 1] end
    end
    if name == 'kairos' and l then last = l end
  end
  local entries = redis.call('XRANGE', s, '(' .. last, '+', 'COUNT', offset + limit)
  for _, e in ipairs(entries) do
    if skipped < offset then skipped = skipped + 1 else out[#out + 1] = e[2][2] end
    if #out >= limit then return out end
  end
end
return out
`;
