/* SPDX-License-Identifier: MIT */
/*
 * Every map type Sluice has, one line each, as the kernel's bpf_types.h:
 *
 *   SLUICE_MAP_TYPE(enum bpf_map_type value, bpftool's name, ops table)
 *
 * The ops table is defined in its family's file (hashtab.c, arraymap.c, ...).
 * Include this file with SLUICE_MAP_TYPE defined; it is undefined after.
 */
SLUICE_MAP_TYPE(BPF_MAP_TYPE_HASH,             "hash",             htab_map_ops)
SLUICE_MAP_TYPE(BPF_MAP_TYPE_ARRAY,            "array",            array_map_ops)
SLUICE_MAP_TYPE(BPF_MAP_TYPE_PROG_ARRAY,       "prog_array",       prog_array_map_ops)
SLUICE_MAP_TYPE(BPF_MAP_TYPE_PERF_EVENT_ARRAY, "perf_event_array", perf_event_array_map_ops)
SLUICE_MAP_TYPE(BPF_MAP_TYPE_PERCPU_HASH,      "percpu_hash",      htab_percpu_map_ops)
SLUICE_MAP_TYPE(BPF_MAP_TYPE_PERCPU_ARRAY,     "percpu_array",     percpu_array_map_ops)
SLUICE_MAP_TYPE(BPF_MAP_TYPE_STACK_TRACE,      "stack_trace",      stack_trace_map_ops)
SLUICE_MAP_TYPE(BPF_MAP_TYPE_LRU_HASH,         "lru_hash",         htab_lru_map_ops)
SLUICE_MAP_TYPE(BPF_MAP_TYPE_LRU_PERCPU_HASH,  "lru_percpu_hash",  htab_lru_percpu_map_ops)
SLUICE_MAP_TYPE(BPF_MAP_TYPE_LPM_TRIE,         "lpm_trie",         trie_map_ops)
SLUICE_MAP_TYPE(BPF_MAP_TYPE_ARRAY_OF_MAPS,    "array_of_maps",    array_of_maps_map_ops)
SLUICE_MAP_TYPE(BPF_MAP_TYPE_HASH_OF_MAPS,     "hash_of_maps",     htab_of_maps_map_ops)
SLUICE_MAP_TYPE(BPF_MAP_TYPE_QUEUE,            "queue",            queue_map_ops)
SLUICE_MAP_TYPE(BPF_MAP_TYPE_STACK,            "stack",            stack_map_ops)
SLUICE_MAP_TYPE(BPF_MAP_TYPE_RINGBUF,          "ringbuf",          ringbuf_map_ops)
#undef SLUICE_MAP_TYPE
