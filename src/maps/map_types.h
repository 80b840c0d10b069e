/* SPDX-License-Identifier: MIT */
/*
 * Every map type Sluice has, one line each, as the kernel's bpf_types.h:
 *
 *   SLUICE_MAP_TYPE(enum bpf_map_type value, ops table)
 *
 * The ops table is defined in its family's file (hashtab.c, arraymap.c, ...);
 * the type's name is bpftool's, from the loader's table (section_names.c).
 * Include this file with SLUICE_MAP_TYPE defined; it is undefined after.
 */
SLUICE_MAP_TYPE(BPF_MAP_TYPE_HASH,              htab_map_ops)
SLUICE_MAP_TYPE(BPF_MAP_TYPE_ARRAY,             array_map_ops)
SLUICE_MAP_TYPE(BPF_MAP_TYPE_PROG_ARRAY,        prog_array_map_ops)
SLUICE_MAP_TYPE(BPF_MAP_TYPE_PERF_EVENT_ARRAY,  perf_event_array_map_ops)
SLUICE_MAP_TYPE(BPF_MAP_TYPE_PERCPU_HASH,       htab_percpu_map_ops)
SLUICE_MAP_TYPE(BPF_MAP_TYPE_PERCPU_ARRAY,      percpu_array_map_ops)
SLUICE_MAP_TYPE(BPF_MAP_TYPE_STACK_TRACE,       stack_trace_map_ops)
SLUICE_MAP_TYPE(BPF_MAP_TYPE_LRU_HASH,          htab_lru_map_ops)
SLUICE_MAP_TYPE(BPF_MAP_TYPE_LRU_PERCPU_HASH,   htab_lru_percpu_map_ops)
SLUICE_MAP_TYPE(BPF_MAP_TYPE_LPM_TRIE,          trie_map_ops)
SLUICE_MAP_TYPE(BPF_MAP_TYPE_ARRAY_OF_MAPS,     array_of_maps_map_ops)
SLUICE_MAP_TYPE(BPF_MAP_TYPE_HASH_OF_MAPS,      htab_of_maps_map_ops)
SLUICE_MAP_TYPE(BPF_MAP_TYPE_QUEUE,             queue_map_ops)
SLUICE_MAP_TYPE(BPF_MAP_TYPE_STACK,             stack_map_ops)
SLUICE_MAP_TYPE(BPF_MAP_TYPE_RINGBUF,           ringbuf_map_ops)
SLUICE_MAP_TYPE(BPF_MAP_TYPE_DEVMAP,            dev_map_ops)
SLUICE_MAP_TYPE(BPF_MAP_TYPE_DEVMAP_HASH,       dev_map_hash_ops)
SLUICE_MAP_TYPE(BPF_MAP_TYPE_CPUMAP,            cpu_map_ops)
SLUICE_MAP_TYPE(BPF_MAP_TYPE_XSKMAP,            xsk_map_ops)
#undef SLUICE_MAP_TYPE
