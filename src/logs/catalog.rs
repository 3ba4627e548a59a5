//! The catalogue of known messages: message text → stable `kind`, severity
//! and extracted numbers.
//!
//! Second stage of the log flow (`chunk → line → catalog → timeline → rules
//! → render`). Every row of log-events.md §2 has at least one pattern here,
//! matched on the **message text only** (never the level character, which
//! moved between versions), ASCII case-insensitively, with explicit
//! alternations for `slave|replica`, `master|primary` and `Redis|Valkey`.
//!
//! Patterns use a tiny grammar compiled once: literal text; `(a|b|)`
//! alternation; `{name}` an integer; `{name:f}` a decimal; `{name:w}` a word
//! (up to a space); `{name:h}` a hex id; `{name:s}` lazy text up to the next
//! literal (or the end); `*` skips lazily. A pattern matches a prefix of the
//! message, so version suffixes (`Ready to accept connections tcp`) still
//! match. Patterns are bucketed by their possible first two bytes, and a
//! row of the bucket is tried only if its first eight bytes fit (or, for a
//! row that starts with a capture, the literal after it sits where that
//! capture would end), so a line is tried against a row or two.

use std::sync::OnceLock;

/// How bad something is. Ordered: `Info < Low < Medium < High < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum)]
pub enum Severity {
    /// Normal operation worth a line on the timeline.
    Info,
    /// Notable but harmless on its own.
    Low,
    /// Degradation or a warning sign.
    Medium,
    /// Failure with user impact.
    High,
    /// Outage or data loss.
    Critical,
}

impl Severity {
    /// The severity's name as printed.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

use Severity::{Critical as C, High as H, Info as I, Low as L, Medium as M};

/// One catalogue row.
#[derive(Debug)]
pub struct Entry {
    /// Catalogue id from log-events.md (`P03`), or `Z..` for extras.
    pub id: &'static str,
    /// Stable machine name (`fork_failed`).
    pub kind: &'static str,
    /// Severity of the event on its own.
    pub severity: Severity,
    /// Connection churn and similar: counted, not kept as events.
    pub noise: bool,
    /// The pattern (see the module docs).
    pub pattern: &'static str,
}

macro_rules! e {
    ($id:literal, $kind:literal, $sev:expr, $pat:literal) => {
        Entry {
            id: $id,
            kind: $kind,
            severity: $sev,
            noise: false,
            pattern: $pat,
        }
    };
    ($id:literal, $kind:literal, $sev:expr, $pat:literal, noise) => {
        Entry {
            id: $id,
            kind: $kind,
            severity: $sev,
            noise: true,
            pattern: $pat,
        }
    };
}

/// The catalogue, most specific first where patterns share a prefix.
pub static ENTRIES: &[Entry] = &[
    // 2.1 lifecycle
    e!("L01", "server_starting", L, "oO0OoO0OoO0Oo {server:w} is starting"),
    e!("L02", "server_version", I, "{server:w} version={version:s}, bits={bits}, commit={commit:s}, modified={modified}, pid={pid}"),
    e!("L02", "server_version", I, "Server started, {server:w} version {version:w}"),
    e!("L03", "config_loaded", I, "Configuration loaded"),
    e!("L03", "no_config_file", M, "Warning: no config file specified"),
    e!("L03", "running_mode", I, "Running mode={mode:s}, port={port}"),
    e!("L03", "server_initialized", I, "Server initialized"),
    e!("L03", "ready_to_start", I, "{server:w} {version:w} ({build:s}) {bits} bit, {mode:w} mode, port {port}, pid {pid} ready to start"),
    e!("L04", "ready", L, "Ready to accept connections"),
    e!("L04", "ready", L, "The server is now ready to accept connections on port {port}"),
    e!("L05", "shutdown_requested", L, "User requested shutdown..."),
    e!("L06", "shutdown_signal", L, "Received (SIGTERM|SIGINT)(,|) scheduling shutdown"),
    e!("L06", "shutdown_signal", L, "Received shutdown signal"),
    e!("L06", "shutdown_forced", M, "You insist... exiting now"),
    e!("L07", "final_save", I, "Saving the final RDB snapshot before exiting"),
    e!("L07", "final_fsync", I, "Calling fsync() on the AOF file"),
    e!("L08", "ready_to_exit", L, "{server:w} is now ready to exit, bye bye"),
    e!("L09", "shutdown_failed", H, "Error trying to save the DB, can't exit"),
    e!("L09", "shutdown_failed", H, "Errors trying to shut down the server"),
    e!("L09", "shutdown_failed", H, "SIGTERM received but errors trying to shut down the server"),
    e!("L10", "shutdown_wait_replicas", I, "Waiting for replicas before shutting down"),
    e!("L10", "shutdown_replica_lag", M, "Lagging (replica|slave) {addr:w} reported offset {behind} behind (master|primary), lag={lag}, state={state:w}"),
    e!("L10", "shutdown_replicas_in_sync", I, "{in_sync} of {replicas} replicas are in sync when shutting down"),
    e!("L11", "fatal_load_error", C, "Fatal error loading the DB"),
    e!("L12", "startup_abort", C, "Failed listening on port {port} ({reason:s}), aborting"),
    e!("L12", "listen_failed", H, "Warning: Could not create server TCP listening socket {addr:w} {reason:s}"),
    e!("L12", "listen_failed", H, "Could not create server TCP listening socket {addr:w} {reason:s}"),
    e!("L12", "listen_failed", H, "Creating Server TCP listening socket {addr:w} {reason:s}"),
    e!("L12", "startup_abort", C, "Configured to not listen anywhere, exiting"),
    e!("L12", "startup_abort", C, "Can't load module from {path:s}: server aborting"),
    // 2.2 RDB
    e!("P01", "save_triggered", I, "{changes} changes in {seconds} seconds. Saving"),
    e!("P02", "bgsave_started", I, "Background saving started by pid {pid}"),
    e!("P03", "fork_failed", H, "Can't save in background: fork: {reason:s}"),
    e!("P04", "db_saved", I, "DB saved on disk"),
    e!("P05", "bgsave_ok", I, "Background saving terminated with success"),
    e!("P06", "bgsave_error", H, "Background saving error"),
    e!("P07", "bgsave_signal", H, "Background saving terminated by signal {signal}"),
    e!("P08", "rdb_open_failed", H, "Failed opening the temp RDB file {file:w} (in server root dir {dir:s}) for saving: {reason:s}"),
    e!("P08", "rdb_open_failed", H, "Failed opening the RDB file {file:w} (in server root dir {dir:s}) for saving: {reason:s}"),
    e!("P08", "rdb_open_failed", H, "Failed opening .rdb for saving: {reason:s}"),
    e!("P09", "rdb_write_error", H, "Write error while saving DB to the disk({stage:s}): {reason:s}"),
    e!("P09", "rdb_write_error", H, "Write error saving DB on disk({stage:s}): {reason:s}"),
    e!("P09", "rdb_write_error", H, "Write error saving DB on disk: {reason:s}"),
    e!("P09", "rdb_rename_error", H, "Error moving temp DB file {rest:s}: {reason:s}"),
    e!("P09", "rdb_fsync_dir_error", H, "Failed to fsync directory while saving DB: {reason:s}"),
    e!("P10", "rdb_load_version", I, "Loading RDB produced by {producer:s}"),
    e!("P10", "rdb_age", I, "RDB age {age} seconds"),
    e!("P10", "rdb_memory", I, "RDB memory usage when created {mb:f} Mb"),
    e!("P11", "keys_loaded", I, "Done loading RDB, keys loaded: {loaded}, keys expired: {expired}"),
    e!("P12", "db_loaded", I, "DB loaded from disk: {seconds:f} seconds"),
    e!("P13", "rdb_corrupt", C, "Short read or OOM loading DB"),
    e!("P13", "rdb_corrupt", C, "Internal error in RDB reading"),
    e!("P13", "rdb_corrupt", C, "Terminating server after rdb file reading failure"),
    e!("P13", "rdb_corrupt", C, "Wrong signature trying to load DB from file"),
    e!("P13", "rdb_corrupt", C, "Can't handle RDB format version {version}"),
    e!("P14", "rdb_transfer_started", I, "Background RDB transfer started by pid {pid}"),
    // 2.3 AOF
    e!("A01", "aof_fsync_slow", M, "Asynchronous AOF fsync is taking too long"),
    e!("A02", "aof_write_error", H, "Error writing to the AOF file: {reason:s}"),
    e!("A03", "aof_short_write", H, "Short write while writing to the AOF file: (nwritten={written}, expected={expected})"),
    e!("A03", "aof_short_write", H, "Could not remove short write from the append-only file"),
    e!("A04", "aof_write_recovered", L, "AOF write error looks solved"),
    e!("A05", "aof_fatal_exit", C, "Can't recover from AOF write error when the AOF fsync policy is 'always'"),
    e!("A05", "aof_fatal_exit", C, "Can't persist AOF for fsync error when the AOF fsync policy is 'always'"),
    e!("A06", "aof_rewrite_triggered", I, "Starting automatic rewriting of AOF on {percent}% growth"),
    e!("A06", "aof_rewrite_started", I, "Background append only file rewriting started by pid {pid}"),
    e!("A07", "aof_fork_failed", H, "Can't rewrite append only file in background: fork: {reason:s}"),
    e!("A08", "aof_rewrite_ok", I, "Background AOF rewrite terminated with success"),
    e!("A08", "aof_rewrite_done", I, "Background AOF rewrite finished successfully"),
    e!("A08", "aof_rewrite_error", H, "Background AOF rewrite terminated with error"),
    e!("A08", "aof_rewrite_signal", H, "Background AOF rewrite terminated by signal {signal}"),
    e!("A09", "aof_rewrite_limit", H, "Background AOF rewrite has repeatedly failed and triggered the limit, will retry in {minutes} minutes"),
    e!("A10", "aof_truncated", H, "!!! Warning: short read while loading the AOF file"),
    e!("A10", "aof_truncated", H, "!!! Truncating the AOF"),
    e!("A10", "aof_truncated", H, "AOF {file:w} loaded anyway because aof-load-truncated is enabled"),
    e!("A10", "aof_truncated", H, "AOF loaded anyway because aof-load-truncated is enabled"),
    e!("A11", "aof_corrupt", C, "Bad file format reading the append only file"),
    e!("A11", "aof_corrupt", C, "Unexpected end of file reading the append only file"),
    e!("A12", "aof_loaded", I, "DB loaded from append only file: {seconds:f} seconds"),
    e!("A12", "aof_base_loading", I, "Reading RDB base file on AOF loading"),
    e!("A12", "aof_preamble_loading", I, "Reading RDB preamble from AOF file"),
    // 2.4 fork, memory, OOM
    e!("M01", "fork_cow", I, "Fork CoW for {what:s}: current {current} MB, peak {peak} MB, average {average} MB"),
    e!("M01", "fork_cow", I, "(RDB|AOF rewrite|Module fork): {current} MB of memory used by copy-on-write"),
    e!("M02", "oom_allocation", C, "Out Of Memory allocating {bytes} bytes"),
    e!("M03", "maxmemory_lowered", H, "WARNING: the new maxmemory value set via CONFIG SET ({new}) is smaller than the current memory usage ({used})"),
    e!("M03", "maxmemory_lowered", H, "WARNING: the new maxmemory value set via CONFIG SET is smaller than the current memory usage"),
    e!("M03", "maxmemory_tiny", M, "WARNING: You specified a maxmemory value that is less than 1MB"),
    e!("M03", "maxmemory_32bit", M, "Warning: 32 bit instance detected but no memory limit set"),
    e!("M04", "client_evicted", M, "Evicting client: {client:s}"),
    e!("M04", "client_eviction_exhausted", H, "Over client maxmemory after evicting all evictable clients"),
    // 2.5 replication
    e!("R01", "replica_sync_request", I, "(Replica|Slave) {addr:w} asks for synchronization"),
    e!("R02", "full_resync_requested", M, "Full resync requested by (replica|slave) {addr:w}"),
    e!("R03", "psync_replid_mismatch", M, "Partial resynchronization not accepted: Replication ID mismatch"),
    // A primary restarted from an older RDB keeps that file's replication ID
    // as its secondary one, valid only up to the file's offset: a replica
    // that had more asks for an offset the primary no longer has.
    e!("R03", "psync_offset_unavailable", H, "Partial resynchronization not accepted: Requested offset for second ID was {asked}, but I can reply up to {upto}"),
    e!("R04", "psync_no_backlog", M, "Unable to partial resync with (replica|slave) {addr:w} for lack of backlog ((Replica|Slave) request was: {offset})"),
    // Valkey 9 names the replication ID asked for and the range it holds.
    e!("R04", "psync_no_backlog", M, "Unable to partial resync with replica {addr:w} for lack of backlog (Replica request was {replid:h}:{offset}, and I can only reply with the range [{from}, {to}])"),
    e!("R05", "psync_accepted", I, "Partial resynchronization request from {addr:w} accepted. Sending {bytes} bytes of backlog starting from offset {offset}"),
    e!("R06", "sync_bgsave", I, "Starting BGSAVE for SYNC with target: {target:w}"),
    e!("R07", "sync_done_primary", I, "Synchronization with (replica|slave) {addr:w} succeeded"),
    e!("R07", "sync_streamed", I, "Streamed RDB transfer with (replica|slave) {addr:w} succeeded"),
    e!("R08", "replica_lost", L, "Connection with (replica|slave) {addr:w} lost"),
    e!("R08", "replica_lost", L, "(Replica|Slave) {addr:w} rdb channel disconnected"),
    e!("R09", "replica_timeout", H, "Disconnecting timedout (replica|slave){rest:s}: {addr:w}"),
    e!("R10", "sync_failed", H, "SYNC failed. BGSAVE child returned an error"),
    e!("R10", "sync_failed", H, "BGSAVE for replication failed"),
    e!("R10", "sync_failed", M, "Diskless rdb transfer, last (replica|slave) dropped, killing fork child"),
    e!("R11", "connecting_primary", I, "Connecting to (MASTER|PRIMARY) {addr:w}"),
    e!("R11", "connecting_primary", I, "Reconnecting to (MASTER|PRIMARY) {addr:w}"),
    e!("R11", "sync_started", I, "(MASTER|PRIMARY) <-> (REPLICA|SLAVE) sync started"),
    e!("R12", "primary_unreachable", M, "Error condition on socket for SYNC: {reason:s}"),
    e!("R12", "primary_unreachable", M, "(Master|Primary) did not respond to command during SYNC handshake"),
    e!("R12", "primary_unreachable", M, "Unable to connect to (MASTER|PRIMARY): {reason:s}"),
    e!("R13", "psync_try", I, "Trying a partial resynchronization (request {replid:h}:{offset})"),
    e!("R13", "psync_impossible", L, "Partial resynchronization not possible (no cached (master|primary))"),
    e!("R14", "full_resync", M, "Full resync from (master|primary): {replid:h}:{offset}"),
    e!("R15", "sync_receiving", I, "(MASTER|PRIMARY) <-> (REPLICA|SLAVE) sync: receiving {bytes} bytes from (master|primary)"),
    e!("R15", "sync_receiving", I, "(MASTER|PRIMARY) <-> (REPLICA|SLAVE) sync: receiving streamed RDB from (master|primary)"),
    // Valkey 9 downloads the RDB on a bio thread and says so.
    e!("R15", "sync_receiving", I, "Replica bio thread: (MASTER|PRIMARY) <-> (REPLICA|SLAVE) sync: receiving {bytes} bytes from (master|primary)"),
    e!("R15", "sync_receiving", I, "Replica bio thread: (MASTER|PRIMARY) <-> (REPLICA|SLAVE) sync: receiving streamed RDB from (master|primary)"),
    e!("R15", "sync_receiving_streamed", I, "(MASTER|PRIMARY) <-> (REPLICA|SLAVE) sync: receiving streamed RDB from (master|primary)"),
    e!("R16", "sync_flush", M, "(MASTER|PRIMARY) <-> (REPLICA|SLAVE) sync: Flushing old data"),
    // Valkey 9: the flush is logged after the RDB header check.
    e!("R16", "sync_flush", M, "RDB signature and version check passed. Flushing old data"),
    e!("R17", "sync_loading", I, "(MASTER|PRIMARY) <-> (REPLICA|SLAVE) sync: Loading DB in memory"),
    e!("R17", "sync_done", I, "(MASTER|PRIMARY) <-> (REPLICA|SLAVE) sync: Finished with success"),
    e!("R18", "psync_ok", L, "Successful partial resynchronization with (master|primary)"),
    e!("R18", "psync_ok_ack", I, "(MASTER|PRIMARY) <-> (REPLICA|SLAVE) sync: (Master|Primary) accepted a Partial Resynchronization"),
    e!("R19", "primary_lost", M, "Connection with (master|primary) lost"),
    e!("R19", "primary_cached", I, "Caching the disconnected (master|primary) state"),
    e!("R20", "primary_timeout", H, "(MASTER|PRIMARY) timeout: no data nor PING received"),
    e!("R21", "sync_timeout", H, "Timeout receiving bulk data from (MASTER|PRIMARY)"),
    e!("R22", "sync_io_error", H, "I/O error trying to sync with (MASTER|PRIMARY): {reason:s}"),
    e!("R22", "sync_load_failed", H, "Failed trying to load the (MASTER|PRIMARY) synchronization DB from"),
    e!("R23", "promoted", M, "(MASTER|PRIMARY) MODE enabled{how:s}"),
    e!("R24", "replicaof", M, "(REPLICAOF|SLAVE OF) {addr:w} enabled{how:s}"),
    e!("R25", "secondary_replid", I, "Setting secondary replication ID to {replid:h}, valid up to offset: {offset}"),
    e!("R25", "cached_self", I, "Before turning into a (replica|slave), using my own (master|primary) parameters"),
    // 2.6 sentinel
    e!("S01", "sentinel_monitor", I, "+monitor (master|primary) {name:w} {ip:w} {port} quorum {quorum}"),
    e!("S02", "sentinel_sdown", H, "+sdown {type:w} {name:w} {ip:w} {port}"),
    e!("S02", "sentinel_sdown_end", L, "-sdown {type:w} {name:w} {ip:w} {port}"),
    e!("S03", "sentinel_odown", H, "+odown (master|primary) {name:w} {ip:w} {port} #quorum {votes}/{quorum}"),
    e!("S03", "sentinel_odown_end", L, "-odown (master|primary) {name:w} {ip:w} {port}"),
    e!("S04", "sentinel_new_epoch", I, "+new-epoch {epoch}"),
    e!("S04", "sentinel_vote", I, "+vote-for-leader {leader:w} {epoch}"),
    e!("S04", "sentinel_voted", I, "{voter:h} voted for {leader:h} {epoch}"),
    e!("S05", "sentinel_try_failover", H, "+try-failover (master|primary) {name:w} {ip:w} {port}"),
    e!("S06", "sentinel_elected_leader", M, "+elected-leader (master|primary) {name:w} {ip:w} {port}"),
    e!("S06", "sentinel_abort_not_elected", M, "-failover-abort-not-elected"),
    e!("S07", "sentinel_select_replica", I, "+failover-state-select-slave"),
    e!("S07", "sentinel_selected_replica", M, "+selected-slave slave {addr:w} {ip:w} {port}"),
    e!("S07", "sentinel_abort_no_good_replica", C, "-failover-abort-no-good-slave"),
    e!("S08", "sentinel_send_replicaof_noone", I, "+failover-state-send-slaveof-noone"),
    e!("S08", "sentinel_wait_promotion", I, "+failover-state-wait-promotion"),
    e!("S08", "sentinel_promoted", H, "+promoted-slave slave {addr:w} {ip:w} {port}"),
    e!("S08", "sentinel_reconf_replicas", I, "+failover-state-reconf-slaves"),
    e!("S08", "sentinel_abort_replica_timeout", H, "-failover-abort-slave-timeout"),
    e!("S09", "sentinel_reconf_sent", I, "+slave-reconf-sent slave {addr:w}"),
    e!("S09", "sentinel_reconf_inprog", I, "+slave-reconf-inprog slave {addr:w}"),
    e!("S09", "sentinel_reconf_done", I, "+slave-reconf-done slave {addr:w}"),
    e!("S09", "sentinel_reconf_timeout", M, "-slave-reconf-sent-timeout"),
    e!("S10", "sentinel_failover_end_timeout", M, "+failover-end-for-timeout"),
    e!("S10", "sentinel_failover_end", M, "+failover-end (master|primary) {name:w} {ip:w} {port}"),
    e!("S11", "sentinel_switch_master", H, "+switch-master {name:w} {old_ip:w} {old_port} {new_ip:w} {new_port}"),
    e!("S12", "sentinel_convert_to_replica", M, "+convert-to-slave slave {addr:w} {ip:w} {port}"),
    e!("S13", "sentinel_reboot", M, "+reboot {type:w} {name:w} {ip:w} {port}"),
    e!("S14", "sentinel_config_update", L, "+config-update-from sentinel {runid:w}"),
    e!("S14", "sentinel_fix_replica_config", M, "+fix-slave-config"),
    e!("S15", "sentinel_tilt", H, "+tilt"),
    e!("S15", "sentinel_tilt_end", L, "-tilt"),
    e!("S16", "sentinel_failover_delay", L, "Next failover delay: I will not start a failover before"),
    e!("S16", "sentinel_user_failover", M, "Executing user requested FAILOVER of '{name:s}'"),
    e!("S16", "sentinel_id", I, "Sentinel ID is {runid:h}"),
    e!("S16", "sentinel_id", I, "Sentinel runid is {runid:h}"),
    e!("S16", "sentinel_config_save_failed", H, "WARNING: Sentinel was not able to save the new configuration on disk"),
    e!("S17", "sentinel_new_replica", I, "+slave slave {addr:w} {ip:w} {port}"),
    e!("S17", "sentinel_new_sentinel", I, "+sentinel sentinel {runid:w} {ip:w} {port}"),
    // 2.7 cluster
    e!("C01", "cluster_node_id", I, "Node configuration loaded, I'm {node:h}"),
    e!("C01", "cluster_node_id", I, "No cluster configuration found, I'm {node:h}"),
    e!("C02", "cluster_marking_failed", H, "Marking node {node:h}*as failing (quorum reached)"),
    e!("C03", "cluster_fail_received", M, "FAIL message received from {from:h}*about {node:h}"),
    e!("C04", "cluster_state", M, "Cluster state changed: {state:w}"),
    e!("C05", "cluster_election_delayed", M, "Start of election delayed for {delay_ms} milliseconds (rank #{rank}, offset {offset})"),
    e!("C05", "cluster_rank_updated", I, "Replica rank updated to #{rank}, added {delay_ms} milliseconds of delay"),
    e!("C06", "cluster_election_started", M, "Starting a failover election for epoch {epoch}"),
    e!("C07", "cluster_auth_granted", I, "Failover auth granted to {node:h}*for epoch {epoch}"),
    e!("C07", "cluster_auth_denied", M, "Failover auth denied to {node:h}{reason:s}"),
    e!("C08", "cluster_failover_won", H, "Failover election won: I'm the new (master|primary)"),
    e!("C08", "cluster_config_epoch", I, "configEpoch set to {epoch} after successful failover"),
    e!("C09", "cluster_cannot_failover", H, "Currently unable to failover: {reason:s}"),
    e!("C10", "cluster_reconfigured_as_replica", M, "Configuration change detected. Reconfiguring myself as a replica of (node |){node:h}"),
    e!("C11", "cluster_fail_cleared", L, "Clear FAIL state for node {node:h}"),
    e!("C12", "cluster_slots_lost", M, "A failover occurred in shard {shard:h}"),
    e!("C12", "cluster_replica_migrated", L, "Migrating to orphaned (master|primary) {node:h}"),
    e!("C12", "cluster_subreplica", L, "I'm a sub-replica! Reconfiguring myself as a replica of"),
    e!("C13", "cluster_manual_failover", L, "Manual failover user request accepted"),
    e!("C13", "cluster_manual_failover_timeout", M, "Manual failover timed out"),
    e!("C13", "cluster_takeover", M, "Taking over the (master|primary) (user request)"),
    e!("C13", "cluster_forced_failover", M, "Forced failover user request accepted"),
    e!("C14", "cluster_link_freed", H, "Freeing cluster link("),
    // 2.8 clients
    e!("K01", "output_buffer_limit", H, "Client {client:s} scheduled to be closed ASAP for overcoming of output buffer limits"),
    e!("K02", "output_buffer_limit", H, "Client {client:s} closed for overcoming of output buffer limits"),
    e!("K03", "query_buffer_limit", H, "Closing client that reached max query buffer length"),
    e!("K04", "accept_error", H, "Error accepting a client connection: {reason:s}"),
    e!("K04", "accept_error", H, "Accepting client connection: {reason:s}"),
    e!("K05", "maxclients_reduced", M, "Current maximum open files is {files}. maxclients has been reduced to {maxclients}"),
    e!("K05", "ulimit_too_low", C, "Your current 'ulimit -n' of {files} is not enough for the server to start"),
    e!("K05", "open_files_raised", I, "Increased maximum number of open files to {new} (it was originally set to {old})"),
    e!("K05", "open_files_limited", M, "You requested maxclients of {want} requiring at least {need} max file descriptors"),
    e!("K06", "protocol_error", M, "Protocol error ({what:s}) from client: {client:s}"),
    e!("K07", "client_accepted", I, "Accepted {addr:w}", noise),
    e!("K07", "client_closed", I, "Client closed connection", noise),
    e!("K08", "security_attack", H, "Possible SECURITY ATTACK detected"),
    // 2.9 latency
    // The named forms first: the script (7.0+ name, 6.x SHA1) is what a
    // write-up needs to find the culprit.
    e!("T01", "slow_script", H, "Slow script detected: still in execution after {ms} milliseconds.*Script name is: {script:s}."),
    e!("T01", "slow_script", H, "Slow script detected: still in execution after {ms} milliseconds"),
    e!("T01", "slow_script", H, "Lua slow script detected: still in execution after {ms} milliseconds.*Script SHA1 is: {script:h}"),
    e!("T01", "slow_script", H, "Lua slow script detected: still in execution after {ms} milliseconds"),
    // The end of the block: an operator or a sentinel (which sends SCRIPT
    // KILL to a primary it sees as down that answers -BUSY) killed it.
    e!("Z01", "script_killed", M, "Lua script killed by user with SCRIPT KILL"),
    // Valkey 9 runs Lua as an engine module and tags the line.
    e!("Z01", "script_killed", M, "<module> Script killed by user with SCRIPT KILL"),
    e!("Z01", "script_killed", M, "Script killed by user with SCRIPT KILL"),
    e!("T02", "watchdog", H, "--- WATCHDOG TIMER EXPIRED ---"),
    // 2.10 startup warnings
    e!("W01", "overcommit_disabled", L, "WARNING Memory overcommit must be enabled"),
    e!("W01", "overcommit_disabled", L, "WARNING overcommit_memory is set to 0"),
    e!("W02", "thp_enabled", L, "WARNING you have Transparent Huge Pages"),
    e!("W03", "tcp_backlog_low", L, "WARNING: The TCP backlog setting of {want} cannot be enforced because {sysctl:w} is set to the lower value of {got}"),
    e!("W04", "slow_clocksource", L, "WARNING Your system is configured to use the 'xen' clocksource"),
    e!("W04", "slow_clocksource", L, "WARNING Slow system clocksource detected"),
    e!("W04", "kernel_cow_bug", C, "WARNING Your kernel has a bug that could lead to data corruption during background save"),
    // 2.11 crash (prefixed lines inside a bug report)
    e!("X01", "crash_report_start", C, "=== (REDIS|VALKEY) BUG REPORT START"),
    e!("X02", "crash_signal", C, "{server:w} {version:w} crashed by signal: {signal}"),
    e!("X02", "crash_address", I, "Accessing address: {address:w}"),
    e!("X02", "crash_killed_by", M, "Killed by PID: {pid}, UID: {uid}"),
    e!("X02", "crash_instruction", I, "Crashed running the (instruction|instuction) at: {address:w}"),
    e!("X03", "assertion_failed", C, "=== (RECURSIVE |)ASSERTION FAILED ==="),
    e!("X03", "assertion_where", C, "==> {file:w}:{line} '{expr:s}' is not true"),
    e!("X03", "assertion_where", C, "Failed assertion: {expr:s} ({file:w}:{line})"),
    e!("X04", "software_failure", C, "!!! Software Failure"),
    e!("X04", "guru_meditation", C, "Guru Meditation: {reason:s} #{where:w}"),
    e!("X06", "crash_report_end", I, "=== (REDIS|VALKEY) BUG REPORT END"),
    // 2.12 modules
    e!("D01", "module_loaded", I, "Module '{name:s}' loaded from {path:s}"),
    e!("D02", "module_load_failed", C, "Module {name:w} failed to load: {reason:s}"),
    e!("D02", "module_load_failed", C, "Module {name:w} initialization failed"),
    e!("D03", "rdb_module_missing", C, "The RDB file contains AUX module data I can't load: no matching module '{name:s}'"),
    e!("D03", "rdb_module_missing", C, "The RDB file contains module data I can't load: no matching module '{name:s}'"),
    e!("D04", "module_fork_exited", I, "Module fork exited pid: {pid}, retcode: {retcode}, bysignal: {signal}"),
    // 1.10 kernel OOM killer (dmesg / kern.log / journald -k)
    e!("O01", "kernel_oom_kill", C, "Out of memory: Killed process {pid} ({comm:s}) total-vm:{total_vm_kb}kB, anon-rss:{anon_rss_kb}kB"),
    e!("O01", "kernel_oom_kill", C, "Memory cgroup out of memory: Killed process {pid} ({comm:s}) total-vm:{total_vm_kb}kB, anon-rss:{anon_rss_kb}kB"),
    e!("O01", "kernel_oom_kill", C, "Killed process {pid} ({comm:s}) total-vm:{total_vm_kb}kB, anon-rss:{anon_rss_kb}kB"),
    e!("O01", "kernel_oom_kill", C, "Out of memory: Killed process {pid} ({comm:s})"),
    e!("O01", "kernel_oom_kill", C, "Memory cgroup out of memory: Killed process {pid} ({comm:s})"),
    e!("O01", "kernel_oom_choice", H, "Out of memory: Kill process {pid} ({comm:s})"),
    e!("O02", "kernel_oom_invoked", H, "{task:w} invoked oom-killer"),
    e!("O03", "kernel_oom_reaped", I, "oom_reaper: reaped process {pid} ({comm:s})"),
];

/// A value captured by a pattern.
#[derive(Debug, Clone, PartialEq)]
pub enum Cap {
    /// A number (integers are exact up to 2^53).
    Num(f64),
    /// A piece of text (bounded).
    Text(Box<str>),
}

/// Captured values of one match, by name, in pattern order.
pub type Caps = Vec<(&'static str, Cap)>;

/// Reads a numeric capture.
pub fn num(caps: &[(&'static str, Cap)], name: &str) -> Option<f64> {
    caps.iter()
        .find(|(n, _)| *n == name)
        .and_then(|(_, c)| match c {
            Cap::Num(v) => Some(*v),
            Cap::Text(_) => None,
        })
}

/// Reads a text capture.
pub fn text<'c>(caps: &'c [(&'static str, Cap)], name: &str) -> Option<&'c str> {
    caps.iter()
        .find(|(n, _)| *n == name)
        .and_then(|(_, c)| match c {
            Cap::Text(t) => Some(&**t),
            Cap::Num(_) => None,
        })
}

#[derive(Debug)]
enum Seg {
    Lit(Lit),
    Alt(Vec<Lit>),
    Num(&'static str),
    Float(&'static str),
    Word(&'static str),
    Hex(&'static str),
    Text(&'static str),
    Skip,
}

/// A literal of a pattern: lowercased (it matches ASCII case-insensitively)
/// and as written, which is how servers print it, so a match is usually
/// one `memcmp`.
#[derive(Debug, Clone)]
struct Lit {
    low: Vec<u8>,
    raw: Vec<u8>,
}

impl Lit {
    fn new(raw: &[u8]) -> Lit {
        Lit {
            low: raw.to_ascii_lowercase(),
            raw: raw.to_vec(),
        }
    }
}

impl std::ops::Deref for Lit {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.low
    }
}

struct Compiled {
    segs: Vec<Seg>,
}

struct Catalogue {
    pats: Vec<Compiled>,
    /// Candidate rows by the message's first two bytes (lowercased, as
    /// [`bucket_key`]), in row order: a message is tried only against the
    /// rows that can start with its first two bytes (a one-byte key matched
    /// most of the catalogue's `C…`/`S…`/`R…` rows on every line).
    buckets: Vec<Vec<u16>>,
    /// Per row, what the start of a message must be for the row to be worth
    /// trying: most rows of a bucket fail that one comparison.
    leads: Vec<Lead>,
    /// Buckets none of whose rows has a digit in a literal: there, which
    /// row a message matches depends only on its [`shape`], so the answer
    /// for one message holds for every message of the same shape.
    plain: Vec<bool>,
}

/// What a row needs of the start of a message. For a row that begins with a
/// capture (it sits in every bucket): a number or hex id is taken whole and
/// a word stops at whitespace, so a literal that follows (for a word: one
/// that starts with whitespace) can only start where that token ends.
enum Lead {
    /// The row starts with a literal: its first (up to) eight bytes,
    /// lowercased, as the low bytes of a word, and the mask of the bytes it
    /// has. A message whose first eight bytes (lowercased, [`head8`]) differ
    /// under the mask cannot match; comparing byte by byte was most of the
    /// cost of rows that share a bucket (`Background saving …`, `Background
    /// AOF …`).
    Head(u64, u64),
    /// The position is not fixed: try the row.
    Free,
    /// The literal must start at the end of the first word.
    Word(Lit),
    /// The literal must start after the leading digits.
    Num(Lit),
    /// The literal must start after the leading hex digits.
    Hex(Lit),
}

impl Lead {
    fn of(segs: &[Seg]) -> Lead {
        match segs {
            [Seg::Word(_), Seg::Lit(l), ..] if l.first().is_some_and(u8::is_ascii_whitespace) => {
                Lead::Word(l.clone())
            }
            [Seg::Num(_), Seg::Lit(l), ..] => Lead::Num(l.clone()),
            [Seg::Hex(_), Seg::Lit(l), ..] => Lead::Hex(l.clone()),
            [Seg::Lit(l), ..] => {
                let n = l.len().min(8);
                let mask = if n == 8 {
                    u64::MAX
                } else {
                    (1u64 << (8 * n)) - 1
                };
                Lead::Head(head8(l) & mask, mask)
            }
            _ => Lead::Free,
        }
    }

    /// Whether `msg` can match a row with this lead (`ends` caches the
    /// token ends of `msg`, found on first use).
    fn admits(&self, msg: &[u8], head: u64, ends: &mut Option<[usize; 3]>) -> bool {
        let end = |i: usize, ends: &mut Option<[usize; 3]>| {
            ends.get_or_insert_with(|| {
                let run = |f: fn(&u8) -> bool, from: usize| {
                    from + msg[from..].iter().take_while(|c| f(c)).count()
                };
                let sign = usize::from(msg.first() == Some(&b'-'));
                [
                    run(|c| !c.is_ascii_whitespace(), 0),
                    run(u8::is_ascii_digit, sign),
                    run(u8::is_ascii_hexdigit, 0),
                ]
            })[i]
        };
        match self {
            Lead::Head(pre, mask) => head & mask == *pre,
            Lead::Free => true,
            Lead::Word(l) => lit_at(msg, end(0, ends), l),
            Lead::Num(l) => lit_at(msg, end(1, ends), l),
            Lead::Hex(l) => lit_at(msg, end(2, ends), l),
        }
    }
}

/// The first eight bytes of `b`, lowercased, as a little-endian word
/// (missing bytes are 0, which no literal byte is).
fn head8(b: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    for (d, s) in w.iter_mut().zip(b) {
        *d = s.to_ascii_lowercase();
    }
    u64::from_le_bytes(w)
}

/// The bucket of a message: its first two bytes, lowercased (a missing
/// second byte counts as 0).
fn bucket_key(msg: &[u8]) -> usize {
    let b = |i: usize| usize::from(msg.get(i).map_or(0, u8::to_ascii_lowercase));
    (b(0) << 8) | b(1)
}

/// What a pattern's first two bytes can be: each prefix is exact when two
/// bytes long, and a shorter one leaves the rest free (a capture or the end
/// of the pattern comes first).
fn prefixes(segs: &[Seg]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = vec![Vec::new()];
    for seg in segs {
        if out.iter().all(|p| p.len() >= 2) {
            break;
        }
        let alts: Vec<&[u8]> = match seg {
            Seg::Lit(l) => vec![&l[..]],
            Seg::Alt(a) => a.iter().map(|l| &l[..]).collect(),
            _ => break,
        };
        out = out
            .iter()
            .flat_map(|p| {
                alts.iter().map(move |a| {
                    let mut q = p.clone();
                    q.extend(a.iter().take(2usize.saturating_sub(p.len())));
                    q
                })
            })
            .collect();
        out.sort();
        out.dedup();
    }
    out
}

fn compile(p: &'static str) -> Compiled {
    let b = p.as_bytes();
    let mut segs = Vec::new();
    let mut lit = Vec::new();
    let mut i = 0;
    let flush = |lit: &mut Vec<u8>, segs: &mut Vec<Seg>| {
        if !lit.is_empty() {
            segs.push(Seg::Lit(Lit::new(&std::mem::take(lit))));
        }
    };
    while i < b.len() {
        match b[i] {
            b'{' => {
                flush(&mut lit, &mut segs);
                let end = i + p[i..]
                    .find('}')
                    .expect("closing brace in catalogue pattern");
                let spec = &p[i + 1..end];
                let (name, ty) = spec.split_once(':').unwrap_or((spec, ""));
                segs.push(match ty {
                    "f" => Seg::Float(name),
                    "w" => Seg::Word(name),
                    "h" => Seg::Hex(name),
                    "s" => Seg::Text(name),
                    _ => Seg::Num(name),
                });
                i = end + 1;
            }
            b'(' if p[i..].find(')').is_some_and(|e| p[i..i + e].contains('|')) => {
                flush(&mut lit, &mut segs);
                let end = i + p[i..].find(')').unwrap_or(0);
                let alts = p[i + 1..end]
                    .split('|')
                    .map(|a| Lit::new(a.as_bytes()))
                    .collect();
                segs.push(Seg::Alt(alts));
                i = end + 1;
            }
            b'*' if !(i > 0 && b[i - 1] == b'+') && i + 1 < b.len() => {
                flush(&mut lit, &mut segs);
                segs.push(Seg::Skip);
                i += 1;
            }
            c => {
                lit.push(c);
                i += 1;
            }
        }
    }
    flush(&mut lit, &mut segs);
    Compiled { segs }
}

fn catalogue() -> &'static Catalogue {
    static CAT: OnceLock<Catalogue> = OnceLock::new();
    CAT.get_or_init(|| {
        let pats: Vec<Compiled> = ENTRIES.iter().map(|e| compile(e.pattern)).collect();
        let mut buckets = vec![Vec::new(); 1 << 16];
        let leads = pats.iter().map(|c| Lead::of(&c.segs)).collect();
        for (idx, c) in pats.iter().enumerate() {
            for p in prefixes(&c.segs) {
                let keys = match p.as_slice() {
                    [a, b] => {
                        let k = bucket_key(&[*a, *b]);
                        k..=k
                    }
                    [a] => {
                        let k = usize::from(a.to_ascii_lowercase()) << 8;
                        k..=k | 0xff
                    }
                    _ => 0..=0xffff,
                };
                for k in keys {
                    buckets[k].push(idx as u16);
                }
            }
        }
        for b in &mut buckets {
            b.sort_unstable();
            b.dedup();
        }
        let digit = |l: &Lit| l.iter().any(u8::is_ascii_digit);
        let has_digits: Vec<bool> = pats
            .iter()
            .map(|c| {
                c.segs.iter().any(|s| match s {
                    Seg::Lit(l) => digit(l),
                    Seg::Alt(a) => a.iter().any(digit),
                    _ => false,
                })
            })
            .collect();
        let plain = buckets
            .iter()
            .map(|b| b.iter().all(|&i| !has_digits[usize::from(i)]))
            .collect();
        Catalogue {
            pats,
            buckets,
            leads,
            plain,
        }
    })
}

/// Whether `lit` is at `pos` of `msg`. Most calls fail at the first byte,
/// which is checked before any call to compare the rest.
#[inline]
fn lit_at(msg: &[u8], pos: usize, lit: &Lit) -> bool {
    match (msg.get(pos..pos + lit.raw.len()), lit.low.first()) {
        (Some(m), Some(first)) if m[0].to_ascii_lowercase() == *first => {
            m == lit.raw || m.eq_ignore_ascii_case(&lit.low)
        }
        // The empty alternative of `(,|)`.
        (Some(_), None) => true,
        _ => false,
    }
}

const MAX_TEXT_CAP: usize = 512;

fn text_cap(b: &[u8]) -> Cap {
    Cap::Text(boxed(b))
}

/// `b` as text, invalid UTF-8 replaced. Tries the validating conversion
/// first: it checks ASCII a word at a time, where the lossy one walks byte
/// by byte, and nearly every capture is ASCII.
pub(super) fn lossy(b: &[u8]) -> Box<str> {
    match std::str::from_utf8(b) {
        Ok(s) => s.into(),
        Err(_) => String::from_utf8_lossy(b).into(),
    }
}

fn run(segs: &[Seg], msg: &[u8], pos: usize, caps: &mut Caps) -> bool {
    let Some((seg, rest)) = segs.split_first() else {
        return true;
    };
    match seg {
        Seg::Lit(l) => lit_at(msg, pos, l) && run(rest, msg, pos + l.len(), caps),
        Seg::Alt(alts) => alts
            .iter()
            .any(|a| lit_at(msg, pos, a) && run(rest, msg, pos + a.len(), caps)),
        Seg::Num(name) | Seg::Float(name) => {
            let float = matches!(seg, Seg::Float(_));
            let mut end = pos;
            if msg.get(end) == Some(&b'-') {
                end += 1;
            }
            while end < msg.len()
                && (msg[end].is_ascii_digit() || (float && msg[end] == b'.' && end > pos))
            {
                end += 1;
            }
            let v = std::str::from_utf8(&msg[pos..end])
                .ok()
                .and_then(|s| s.parse::<f64>().ok());
            match v {
                Some(v) => {
                    let n = caps.len();
                    caps.push((name, Cap::Num(v)));
                    if run(rest, msg, end, caps) {
                        return true;
                    }
                    caps.truncate(n);
                    false
                }
                None => false,
            }
        }
        Seg::Word(name) | Seg::Hex(name) => {
            let hex = matches!(seg, Seg::Hex(_));
            let mut end = pos;
            while end < msg.len()
                && if hex {
                    msg[end].is_ascii_hexdigit()
                } else {
                    !msg[end].is_ascii_whitespace()
                }
            {
                end += 1;
            }
            // A word followed by a literal may stop before it (`{addr:w} lost`
            // where the word itself could swallow the literal's first bytes).
            let next_lit = match rest.first() {
                Some(Seg::Lit(l)) if !hex => Some(l),
                _ => None,
            };
            // A literal that starts with whitespace can only follow the
            // whole word.
            let lowest = match next_lit {
                Some(l) if l[0].is_ascii_whitespace() => end.saturating_sub(1).max(pos),
                _ => pos,
            };
            let mut e = end;
            while e > lowest {
                if next_lit.is_none_or(|l| lit_at(msg, e, l)) {
                    let n = caps.len();
                    caps.push((name, text_cap(&msg[pos..e])));
                    if run(rest, msg, e, caps) {
                        return true;
                    }
                    caps.truncate(n);
                    if next_lit.is_none() {
                        break;
                    }
                }
                e -= 1;
            }
            false
        }
        Seg::Text(_) | Seg::Skip => {
            let name = if let Seg::Text(n) = seg {
                Some(*n)
            } else {
                None
            };
            if rest.is_empty() {
                if let Some(n) = name {
                    caps.push((n, text_cap(&msg[pos.min(msg.len())..])));
                }
                return true;
            }
            let next = match rest.first() {
                Some(Seg::Lit(l)) => Some(l),
                _ => None,
            };
            let mut end = pos;
            while end <= msg.len() {
                if let Some(l) = next {
                    // Only where the next literal's first byte is.
                    let b = l.low[0];
                    match memchr::memchr2(b, b.to_ascii_uppercase(), &msg[end..]) {
                        Some(p) => end += p,
                        None => break,
                    }
                    if !lit_at(msg, end, l) {
                        end += 1;
                        continue;
                    }
                }
                let n = caps.len();
                if let Some(nm) = name {
                    caps.push((nm, text_cap(&msg[pos..end])));
                }
                if run(rest, msg, end, caps) {
                    return true;
                }
                caps.truncate(n);
                end += 1;
            }
            false
        }
    }
}

/// Strips what some sources put before the message itself: leading
/// whitespace (≤3.0 crash lines) and a dmesg `[ 12345.678901] ` uptime.
fn trim_message(msg: &[u8]) -> &[u8] {
    let msg = msg.trim_ascii_start();
    if msg.first() == Some(&b'[') {
        if let Some(close) = memchr::memchr(b']', &msg[..msg.len().min(24)]) {
            let inside = &msg[1..close];
            if !inside.is_empty()
                && inside
                    .iter()
                    .all(|c| c.is_ascii_digit() || b". ".contains(c))
            {
                return msg[close + 1..].trim_ascii_start();
            }
        }
    }
    msg
}

/// Classifies a message. Returns the catalogue index and the captures.
pub fn classify(msg: &[u8]) -> Option<(u16, Caps)> {
    let msg = trim_message(msg);
    let cat = catalogue();
    msg.first()?;
    SCRATCH.with_borrow_mut(|Scratch { caps, memo }| {
        // One allocation of the exact size (none without captures): the
        // captures of millions of kept events would otherwise carry a
        // growing vector's slack.
        let found = |idx: u16, caps: &mut Caps| {
            let mut exact = Caps::with_capacity(caps.len());
            exact.append(caps);
            Some((idx, exact))
        };
        let bucket = bucket_key(msg);
        let key = cat.plain[bucket].then(|| shape(msg));
        if let Some(seen) = key.and_then(|k| memo.get(k)) {
            // A shape that matched no row matches none now.
            let idx = seen?;
            caps.clear();
            if run(&cat.pats[usize::from(idx)].segs, msg, 0, caps) {
                return found(idx, caps);
            }
        }
        let mut ends = None;
        let head = head8(msg);
        for &idx in &cat.buckets[bucket] {
            if !cat.leads[idx as usize].admits(msg, head, &mut ends) {
                continue;
            }
            caps.clear();
            if run(&cat.pats[idx as usize].segs, msg, 0, caps) {
                if let Some(k) = key {
                    memo.put(k, Some(idx));
                }
                return found(idx, caps);
            }
        }
        if let Some(k) = key {
            memo.put(k, None);
        }
        None
    })
}

/// A hash of a message's shape: its bytes with every digit read as `0`,
/// and its length. Captures take whole runs of digits, and a literal
/// without digits meets a digit nowhere, so a row without digits in its
/// literals matches every message of a shape or none of them.
fn shape(msg: &[u8]) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    // Eight bytes at a time: a byte is a digit when its low seven bits are
    // at least `0` and below `:` and its high bit is clear; clearing a
    // digit's low nibble makes it `0`.
    let norm = |x: u64| {
        let low = x & (0x7f * ONES);
        let from_zero = low.wrapping_add(0x50 * ONES);
        let past_nine = low.wrapping_add(0x46 * ONES);
        let digit = from_zero & !past_nine & !x & (0x80 * ONES);
        x & !((digit >> 7) * 0x0f)
    };
    let mut h = (msg.len() as u64).wrapping_mul(K);
    let mut words = msg.chunks_exact(8);
    let mut mix = |w: u64| {
        h = (h ^ norm(w)).wrapping_mul(K);
        h ^= h >> 29;
    };
    for w in &mut words {
        let mut b = [0u8; 8];
        b.copy_from_slice(w);
        mix(u64::from_le_bytes(b));
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        let mut b = [0u8; 8];
        b[..rest.len()].copy_from_slice(rest);
        mix(u64::from_le_bytes(b));
    }
    h | 1
}

/// What classification keeps per thread from line to line.
struct Scratch {
    /// Captures of the row being tried.
    caps: Caps,
    /// The row each recent message shape matched.
    memo: Memo,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch {
        caps: Vec::new(),
        memo: Memo::new(),
    });
}

/// The row each recent message shape matched, direct-mapped by the shape's
/// low bits: a busy server writes the same few messages with other numbers,
/// and trying the rows of their bucket again was over half of the
/// classification's instructions.
struct Memo {
    slots: Vec<(u64, u16)>,
}

/// Slots of a [`Memo`].
const MEMO_SLOTS: usize = 4096;

/// A [`Memo`]'s "matched no row".
const NO_ROW: u16 = u16::MAX;

impl Memo {
    fn new() -> Memo {
        // Shapes are odd: a zero key is an empty slot.
        Memo {
            slots: vec![(0, 0); MEMO_SLOTS],
        }
    }

    /// What a message of this shape matched, if one was seen.
    fn get(&self, key: u64) -> Option<Option<u16>> {
        let (k, row) = self.slots[key as usize % MEMO_SLOTS];
        (k == key).then_some((row != NO_ROW).then_some(row))
    }

    fn put(&mut self, key: u64, row: Option<u16>) {
        self.slots[key as usize % MEMO_SLOTS] = (key, row.unwrap_or(NO_ROW));
    }
}

/// errno texts whose class rules name, in [`errno_class`] code order (code
/// `k + 1` is row `k`).
const ERRNO: &[(&[u8], &str)] = &[
    (b"no space left", "disk full"),
    (b"cannot allocate memory", "out of memory, ENOMEM"),
    (
        b"resource temporarily unavailable",
        "process or cgroup task limit, EAGAIN",
    ),
    (b"permission denied", "permission denied"),
    (b"read-only file system", "read-only file system"),
    (b"input/output error", "I/O error"),
];

/// The class of the errno text a message names, as a small code (0 none),
/// so that an event can carry it without its text.
pub fn errno_class(msg: &[u8]) -> u8 {
    // One lowercased copy (in a buffer kept per thread) and a vectorised
    // search per needle with searchers built once.
    static FINDERS: std::sync::LazyLock<Vec<memchr::memmem::Finder<'static>>> =
        std::sync::LazyLock::new(|| {
            ERRNO
                .iter()
                .map(|(n, _)| memchr::memmem::Finder::new(n))
                .collect()
        });
    thread_local! {
        static LOWER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    LOWER.with_borrow_mut(|lower| {
        lower.clear();
        lower.extend(msg.iter().map(u8::to_ascii_lowercase));
        let hit = FINDERS.iter().position(|f| f.find(lower).is_some());
        hit.map_or(0, |k| k as u8 + 1)
    })
}

/// The name of an [`errno_class`] code.
pub fn errno_name(code: u8) -> Option<&'static str> {
    ERRNO
        .get(usize::from(code).checked_sub(1)?)
        .map(|(_, n)| *n)
}

/// The catalogue row at `idx`.
pub fn entry(idx: u16) -> &'static Entry {
    &ENTRIES[idx as usize]
}

/// What a line without any log prefix is, when it is something we use.
#[derive(Debug, Clone, PartialEq)]
pub enum RawKind {
    /// `=== REDIS BUG REPORT START ...` (also VALKEY).
    CrashStart,
    /// `=== REDIS BUG REPORT END ...`.
    CrashEnd,
    /// `------ STACK TRACE ------` and the other section headers.
    Section(Box<str>),
    /// A stack frame `binary(function+0x..)[0x..]`.
    Frame(Box<str>),
    /// `12345 thread-name *`: the header of a thread's frames (7.4+);
    /// `true` when it is the crashing thread.
    Thread(bool),
    /// A whitelisted INFO field `key:value` (log-events.md §3).
    Info(Box<str>, Box<str>),
    /// `argv[0]: '"CMD"'` from the current client info.
    Argv0(Box<str>),
    /// The memory test verdict.
    MemTest(bool),
    /// `--- WATCHDOG TIMER EXPIRED ---`.
    Watchdog,
    /// Startup logo: `Redis 6.0.9 (00000000/0) 64 bit`.
    LogoVersion(Box<str>, Box<str>),
    /// Startup logo: `Running in standalone mode`.
    LogoMode(Box<str>),
    /// Startup logo: `Port: 6379`.
    LogoPort(u32),
    /// Startup logo: `PID: 1234`.
    LogoPid(u32),
}

const INFO_KEYS: &[&str] = &[
    "used_memory",
    "used_memory_rss",
    "used_memory_peak",
    "used_memory_dataset",
    "maxmemory",
    "maxmemory_policy",
    "mem_fragmentation_ratio",
    "evicted_keys",
    "expired_keys",
    "connected_clients",
    "blocked_clients",
    "rejected_connections",
    "connected_slaves",
    "master_repl_offset",
    "repl_backlog_size",
    "master_link_status",
    "master_last_io_seconds_ago",
    "master_sync_in_progress",
    "rdb_last_bgsave_status",
    "rdb_changes_since_last_save",
    "latest_fork_usec",
    "aof_last_write_status",
    "aof_delayed_fsync",
    "uptime_in_seconds",
    "server_time_usec",
    "role",
    "redis_version",
    "valkey_version",
    "server_name",
    "process_id",
    "instantaneous_ops_per_sec",
    "tcp_port",
    "run_id",
    "redis_mode",
    "server_mode",
    "total_system_memory",
];

/// Finds the literal needle `$n` in `$h` with a searcher built once per
/// call site: `memmem::find` builds one on every call, which was a third
/// of its cost on the lines without a log prefix that every crash report
/// and INFO dump is made of (they pass through five searches each).
macro_rules! find {
    ($h:expr, $n:literal) => {{
        static FINDER: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
            std::sync::LazyLock::new(|| memchr::memmem::Finder::new($n));
        FINDER.find($h)
    }};
}

fn digits_after(h: &[u8], at: usize) -> Option<u32> {
    let d: Vec<u8> = h[at..]
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .copied()
        .collect();
    std::str::from_utf8(&d).ok()?.parse().ok()
}

fn boxed(b: &[u8]) -> Box<str> {
    lossy(&b[..b.len().min(MAX_TEXT_CAP)])
}

/// Classifies a line that has no log prefix (see [`RawKind`]).
pub fn classify_raw(line: &[u8]) -> Option<RawKind> {
    let l = line.strip_suffix(b"\r").unwrap_or(line);
    let t = l.trim_ascii();
    let first = *t.first()?;
    match first {
        b'=' => {
            if find!(t, b"BUG REPORT START").is_some() {
                return Some(RawKind::CrashStart);
            }
            if find!(t, b"BUG REPORT END").is_some() {
                return Some(RawKind::CrashEnd);
            }
        }
        b'-' => {
            if t.starts_with(b"--- WATCHDOG TIMER EXPIRED") {
                return Some(RawKind::Watchdog);
            }
            if t.starts_with(b"------ ") && t.ends_with(b" ------") && t.len() > 14 {
                return Some(RawKind::Section(boxed(&t[7..t.len() - 7])));
            }
        }
        b'F' if t.starts_with(b"Fast memory test PASSED") => return Some(RawKind::MemTest(true)),
        b'!' if find!(t, b"MEMORY ERROR DETECTED").is_some() => {
            return Some(RawKind::MemTest(false))
        }
        b'a' if t.starts_with(b"argv[0]: ") => {
            let v = &t[9..];
            let v: &[u8] = &v
                .iter()
                .copied()
                .filter(|c| *c != b'\'' && *c != b'"')
                .collect::<Vec<_>>();
            return Some(RawKind::Argv0(boxed(v)));
        }
        _ => {}
    }
    if let Some(colon) = memchr::memchr(b':', t) {
        let key = &t[..colon];
        if !key.is_empty()
            && key
                .iter()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
        {
            let k = std::str::from_utf8(key).unwrap_or("");
            let val = &t[colon + 1..];
            if INFO_KEYS.contains(&k)
                || (k.starts_with("slave")
                    && k[5..].bytes().all(|c| c.is_ascii_digit())
                    && k.len() > 5)
                || (k.starts_with("db")
                    && k[2..].bytes().all(|c| c.is_ascii_digit())
                    && k.len() > 2)
            {
                return Some(RawKind::Info(k.into(), boxed(val)));
            }
            // Any other INFO field (most of a crash report's lines) is not
            // a frame, a thread header or the logo.
            return None;
        }
    }
    if t.ends_with(b"]") && find!(t, b")[0x").is_some()
        || (t.ends_with(b"]") && find!(t, b"[0x").is_some() && t.contains(&b'/'))
    {
        return Some(RawKind::Frame(boxed(t)));
    }
    // 7.4+/Valkey thread header: `<tid> <name>[ *]`.
    if first.is_ascii_digit() && t.len() < 64 {
        let mut parts = t.split(|c| *c == b' ');
        let tid = parts.next().unwrap_or(b"");
        let name = parts.next().unwrap_or(b"");
        let star = parts.next();
        if tid.iter().all(|c| c.is_ascii_digit())
            && !name.is_empty()
            && name
                .iter()
                .all(|c| c.is_ascii_alphanumeric() || b"_-".contains(c))
            && matches!(star, None | Some(b"*"))
            && parts.next().is_none()
        {
            return Some(RawKind::Thread(star.is_some()));
        }
    }
    // Startup logo (≤3.2 always, 4.0+ with always-show-logo).
    if let Some(p) = find!(l, b" bit") {
        let head = &l[..p];
        let found = [
            (&b"Redis "[..], find!(head, b"Redis ")),
            (b"Valkey ", find!(head, b"Valkey ")),
        ];
        for (server, at) in found {
            if let Some(s) = at {
                let rest = &l[s + server.len()..p];
                let ver_end = memchr::memchr(b' ', rest).unwrap_or(rest.len());
                let name = &server[..server.len() - 1];
                return Some(RawKind::LogoVersion(boxed(name), boxed(&rest[..ver_end])));
            }
        }
    }
    if let Some(p) = find!(l, b"Running in ") {
        let rest = &l[p + 11..];
        let end = memchr::memchr(b' ', rest).unwrap_or(rest.len());
        if rest[end..].starts_with(b" mode") {
            return Some(RawKind::LogoMode(boxed(&rest[..end])));
        }
    }
    if let Some(p) = find!(l, b"Port: ") {
        return digits_after(l, p + 6).map(RawKind::LogoPort);
    }
    if let Some(p) = find!(l, b"PID: ") {
        return digits_after(l, p + 5).map(RawKind::LogoPid);
    }
    None
}

/// Every event kind a rule reads. Events of these kinds are always kept
/// (see [`super::timeline::notable`]); the rules of
/// [`super::rules`] read nothing else; others below medium severity may be
/// only counted on very large inputs.
pub const KINDS_USED: &[&str] = &[
    "aof_fatal_exit",
    "aof_fork_failed",
    "aof_fsync_slow",
    "aof_rewrite_done",
    "aof_rewrite_error",
    "aof_rewrite_ok",
    "aof_rewrite_signal",
    "aof_rewrite_started",
    "aof_short_write",
    "aof_write_error",
    "aof_write_recovered",
    "bgsave_error",
    "bgsave_ok",
    "bgsave_signal",
    "bgsave_started",
    "client_eviction_exhausted",
    "cluster_auth_granted",
    "cluster_config_epoch",
    "cluster_election_delayed",
    "cluster_election_started",
    "cluster_fail_received",
    "cluster_failover_won",
    "cluster_marking_failed",
    "cluster_reconfigured_as_replica",
    "cluster_state",
    "connecting_primary",
    "crash_report",
    "db_saved",
    "fork_failed",
    "full_resync",
    "kernel_oom_kill",
    "keys_loaded",
    "maxclients_reduced",
    "maxmemory_lowered",
    "maxmemory_tiny",
    "no_config_file",
    "oom_allocation",
    "output_buffer_limit",
    "overcommit_disabled",
    "primary_lost",
    "primary_unreachable",
    "promoted",
    "psync_accepted",
    "psync_no_backlog",
    "psync_offset_unavailable",
    "psync_ok",
    "psync_replid_mismatch",
    "psync_try",
    "rdb_age",
    "rdb_fsync_dir_error",
    "rdb_memory",
    "rdb_open_failed",
    "rdb_rename_error",
    "rdb_transfer_started",
    "rdb_write_error",
    "replica_timeout",
    "replicaof",
    "save_triggered",
    "script_killed",
    "secondary_replid",
    "security_attack",
    "sentinel_abort_no_good_replica",
    "sentinel_abort_not_elected",
    "sentinel_abort_replica_timeout",
    "sentinel_convert_to_replica",
    "sentinel_elected_leader",
    "sentinel_failover_end",
    "sentinel_odown",
    "sentinel_promoted",
    "sentinel_sdown",
    "sentinel_selected_replica",
    "sentinel_switch_master",
    "sentinel_try_failover",
    "shutdown_failed",
    "shutdown_requested",
    "slow_clocksource",
    "slow_script",
    "sync_done",
    "sync_failed",
    "sync_flush",
    "sync_io_error",
    "sync_load_failed",
    "sync_receiving",
    "sync_timeout",
    "tcp_backlog_low",
    "thp_enabled",
    "watchdog",
];

#[cfg(test)]
mod tests {
    use super::*;

    /// The catalogue tried row by row, without buckets.
    fn classify_linear(msg: &[u8]) -> Option<u16> {
        let msg = trim_message(msg);
        msg.first()?;
        let cat = catalogue();
        let mut caps = Caps::new();
        (0..cat.pats.len()).find_map(|i| {
            caps.clear();
            run(&cat.pats[i].segs, msg, 0, &mut caps).then_some(i as u16)
        })
    }

    /// The message of every parsed line of the bundled logs.
    fn corpus_messages() -> Vec<Vec<u8>> {
        super::super::line::tests::bundled_lines()
            .iter()
            .filter_map(|l| super::super::line::parse_line(l).map(|p| p.msg.into_owned()))
            .collect()
    }

    #[test]
    fn bucketed_classify_agrees_with_trying_every_row() {
        // The memo is per thread: a fresh one, so this test fills it.
        SCRATCH.with_borrow_mut(|s| s.memo = Memo::new());
        let mut msgs = corpus_messages();
        // Case changes in the first two bytes, one-byte and empty messages.
        let mut extra: Vec<Vec<u8>> = msgs
            .iter()
            .map(|m| {
                let mut m = m.clone();
                for b in m.iter_mut().take(2) {
                    *b = if b.is_ascii_lowercase() {
                        b.to_ascii_uppercase()
                    } else {
                        b.to_ascii_lowercase()
                    };
                }
                m
            })
            .collect();
        // Other digits in the same places: the same shape, answered from
        // the memo of the message seen first.
        extra.extend(msgs.iter().map(|m| {
            m.iter()
                .map(|&b| {
                    if b.is_ascii_digit() {
                        b'0' + (b - b'0' + 7) % 10
                    } else {
                        b
                    }
                })
                .collect()
        }));
        extra.extend([b"R".to_vec(), b"#".to_vec(), Vec::new(), b"  ".to_vec()]);
        msgs.extend(extra);
        let mut matched = 0;
        for m in &msgs {
            let got = classify(m).map(|(i, _)| i);
            assert_eq!(got, classify_linear(m), "{}", String::from_utf8_lossy(m));
            matched += usize::from(got.is_some());
        }
        assert!(matched > 500, "only {matched} messages matched a row");
    }

    #[test]
    fn shape_reads_every_digit_alike_and_nothing_else() {
        assert_eq!(
            shape(b"started by pid 10761"),
            shape(b"started by pid 99999")
        );
        for other in [
            &b"started by pid 1076"[..],
            b"started by pid 1076a",
            b"started by pid 107610",
            b"Started by pid 10761",
        ] {
            assert_ne!(shape(b"started by pid 10761"), shape(other));
        }
        // Bytes above 0x7f whose low bits read as a digit are not digits.
        assert_ne!(shape(b"\xb1\xb2"), shape(b"\xb3\xb4"));
        // Across the bundled logs: messages that differ other than in their
        // digits never share a shape.
        let msgs = corpus_messages();
        let mut seen = std::collections::HashMap::new();
        for m in &msgs {
            let norm: Vec<u8> = m
                .iter()
                .map(|&b| if b.is_ascii_digit() { b'0' } else { b })
                .collect();
            let first = seen.entry(shape(m)).or_insert_with(|| norm.clone());
            assert_eq!(*first, norm, "{}", String::from_utf8_lossy(m));
        }
        assert!(seen.len() > 400, "{} shapes", seen.len());
    }

    #[test]
    fn errno_class_ignores_case_and_finds_the_first_listed_class() {
        assert_eq!(errno_class(b"Write error: No space left on device"), 1);
        assert_eq!(errno_class(b"fork: CANNOT ALLOCATE MEMORY"), 2);
        assert_eq!(errno_class(b"open: Permission denied"), 4);
        assert_eq!(errno_class(b"Input/output error, then no space left"), 1);
        assert_eq!(errno_class(b"all good"), 0);
        assert_eq!(errno_name(4), Some("permission denied"));
    }
}
