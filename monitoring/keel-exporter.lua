-- Keel's own INFO fields for redis_exporter users: the exporter drops INFO
-- fields it does not know, but runs a script given with -script on each
-- scrape and exports the key/value pairs it returns as
-- redis_script_values{key="..."}. Usage:
--   prometheus-redis-exporter -redis.addr redis://127.0.0.1:6379 \
--       -script monitoring/keel-exporter.lua
-- On Redis the fields do not exist and nothing is returned.
local wanted = {
  used_memory_growth_1min = true, used_memory_growth_5min = true, used_memory_growth_60min = true,
  maxmemory_time_to_full_seconds = true, mem_snapshot_buffers = true, allocator_reclaim_purges = true,
  clients_in_backpressure = true, total_backpressure_pauses = true,
  client_query_buffer_limit_disconnections = true, client_output_buffer_limit_disconnections = true,
}
local out = {}
for _, section in ipairs({'memory', 'clients', 'stats'}) do
  local text = redis.call('INFO', section)
  for name, value in string.gmatch(text, '([%w_]+):([^\r\n]+)') do
    if wanted[name] then
      table.insert(out, name)
      table.insert(out, value)
    end
  end
end
return out
