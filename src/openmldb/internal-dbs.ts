// The system databases `showdb` / ShowDatabase hide (src/nameserver/system_table.h):
// ordinary partitioned tables all the same, lost from memory on a restart like any other.
export const INTERNAL_DBS = ['__INTERNAL_DB', 'INFORMATION_SCHEMA', '__PRE_AGG_DB'] as const;
