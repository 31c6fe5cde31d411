// Package authz holds Gatehouse's access model and decides with it: the
// scope catalogue, entity types and their permission levels, the built-in
// organization roles, custom role rules, team roles, token kinds, the audit
// action names, and the decision engine. It performs no I/O and imports
// nothing else of Gatehouse, so every other package may use it.
//
// # The engine
//
// The directory reads an organization's whole access model (a Model) in one
// snapshot transaction; Compile turns it into an immutable Snapshot, and an
// Engine holds the current snapshot of every organization behind an atomic
// pointer. Compiling precomputes, for every member, team and organization
// token role, a subject: the union of its roles' organization scopes as a
// bitset, the level it holds on every entity of a type (base permissions
// and "all" rules), its tag rules, and the sorted lists of teams and roles
// whose grants count. Grants and direct rules are indexed by entity. A
// decision is then one bitset test for an organization scope, or a few
// lookups and comparisons for an entity scope, without allocation.
//
// Entities are indexed by a keyed 128-bit hash of their id (two 64-bit
// hash/maphash values with seeds drawn fresh for every snapshot) instead of
// the id itself. That spares a cache miss on the id's bytes in every lookup
// of a million-entity index. Two different ids would have to agree on both
// hashes to be confused; with secret per-snapshot seeds nobody can aim for
// that, and by chance it happens with odds of about one in 2^128 divided by
// the number of entities.
//
// # How the catalogue's rules are read
//
// Where CATALOGUE.md leaves room, the engine decides as follows.
//   - A member's access is the union of their own organization role, the
//     roles assigned to each of their teams, their teams' grants and their
//     own grants. Nothing denies.
//   - The organization Admin role, held directly or through a team, gives
//     every scope on every entity.
//   - Base permissions apply to whoever holds the built-in Member role as
//     their own organization role; a team principal gets them when the
//     organization's default role is Member.
//   - A toggle that is on gives its scope (stack:create,
//     insights_account:create, team:create) to every member whatever their
//     role, to team principals, and to organization tokens holding Member.
//     Transferring a stack into the organization is creating one there, so
//     it needs stack:create and nothing more.
//   - With stack_admins_can_delete or stack_admins_can_transfer off,
//     stack:delete or stack:transfer is withheld from everyone who is not an
//     organization Admin, however they hold stack Admin.
//   - A team principal (a team token, or a check about a team) holds the
//     organization's default role, the team's assigned roles and the team's
//     grants.
//   - An organization token holds exactly its one role (the default role
//     when none was given); with Admin it still may not use org_token:create
//     or org_token:delete, so a leaked token cannot mint its successors.
//   - A personal token is its member; an inactive member and their tokens
//     are denied everything. SCIM tokens hold no scope: they only reach the
//     SCIM endpoints.
//   - An organization scope asked about an entity, or an entity scope asked
//     without one or about another entity type, is denied by Decide; the
//     API answers such questions with a 400 from CheckEntity before asking.
package authz
