// Package directory is Gatehouse's store: organizations, members, groups,
// teams, roles, grants, tokens, the audit log and the change log, kept in
// PostgreSQL (for production and several replicas) or in an embedded SQLite
// file (the zero-setup default), behind one Store type.
//
// Guarantees:
//
//   - Every mutation is one transaction. Its rows, one change-log row and
//     its audit events commit together or not at all, and it returns the
//     organization's new Revision. A transaction first increments the
//     organization's revision counter, which takes the organization row's
//     lock in PostgreSQL: writes to one organization are serialized, so
//     revisions follow commit order without gaps and existence checks made
//     inside a transaction cannot race a concurrent delete. A write that
//     changes nothing (a retried add, say) is rolled back and reports the
//     current revision. Writes of one organization that queue up in one
//     process are committed together (batch.go): one transaction, one
//     lock and one WAL flush, each write in its own savepoint with its own
//     revision, change-log row and audit events, failing alone.
//   - Errors are *Error values with a Code: Conflict for taken names,
//     Invalid for input that breaks a rule, NotFound, PreconditionFailed for
//     stale versions, Unauthorized for bad tokens, Unavailable for a lost or
//     refused database connection, Internal for the rest.
//   - A lost or refused connection (network errors, a bad connection,
//     PostgreSQL class 08 and 57P01–57P03) is Unavailable, 503 with
//     Retry-After, so identity providers retry. The rule applies when an
//     error is wrapped and again when its code is read, so raw driver errors
//     are covered too; a Store that was closed is not unavailable. A COMMIT
//     cut by the outage answers 503 although it may have committed: a retry
//     then finds the resource (lookup before create) or gets 409. Nothing is
//     acknowledged before its commit returned.
//   - A database that goes silent (no reset) is found out by the kernel:
//     PostgreSQL connections have TCP keepalives and TCP_USER_TIMEOUT
//     (dial.go), because lib/pq cannot interrupt a blocked read. A group
//     commit has 30 s (batchTimeout), its writes' own statements included
//     (lib/pq cancels a transaction's statement when the context it began
//     with ends); one that runs out fails every write of the batch as
//     Unavailable.
//   - A Follower polls from its first moment, even while its PostgreSQL
//     notification connection cannot be opened, and a reconnect of that
//     connection forces a full pass, since notifications sent meanwhile are
//     lost.
//   - Membership changes are deltas: adding or removing members of a group
//     or team costs the number of members named, never the size of the
//     group.
//   - Case-insensitive uniqueness (userNames, team, role and organization
//     names) uses a folded key computed in Go, so both databases agree on
//     which names collide, including outside ASCII.
//   - Tenant tables carry org_id first in every key and index and refer to
//     no table but organizations, so the schema can be sharded by
//     organization. For the same reason a token is authenticated within an
//     organization named by the request (its URL, session or audience),
//     never by a global lookup.
//   - Token secrets are random, prefixed by kind (gthp_ personal, gtht_
//     team, gtho_ organization, gths_ SCIM), end in a checksum, and are
//     stored only as SHA-256 hashes. Deleting a token revokes it and keeps
//     its name taken. A token's owner is checked in the writing
//     transaction, not only in a caller's snapshot: a personal token is never
//     minted for an inactive member, since it would escape the revocation a
//     deactivation does and live again after a reactivation.
//   - Group mapping rules (mapping.go) apply in the transaction that
//     provisions or changes a group, and a save of the rules applies them to
//     every group in its own; their effects are logged as the team, team
//     role and member changes they are, so followers need no rules.
//   - Actor and request metadata for audit events come from the context
//     (NewContextWithActor, NewContextWithRequest).
//
// Times are stored in UTC at microsecond precision. The schema lives in
// package migrations; Open does not migrate.
package directory
