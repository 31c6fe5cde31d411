// Package api is Gatehouse's HTTP server: routing, the middleware every
// request passes through, health and metrics endpoints, and (as the other
// packages land) the management and check APIs.
//
// Handlers return errors instead of writing failures themselves; one
// function turns an error into a status and a JSON body, so every route
// fails in the same shape:
//
//	{"error": {"code": "not_found", "message": "...", "request_id": "..."}}
//
// Only internal errors are logged at error level, with their cause; the
// client sees a generic message and the request id to quote.
//
// Every request gets a request id (the caller's X-Request-Id when it is a
// short token of safe characters, a fresh one otherwise, echoed in the
// response), one structured log line, Prometheus metrics labelled by route
// pattern (never by raw path, so label cardinality stays bounded), and a body
// size limit.
//
// Tenants never see each other: tokens, sessions and login codes are
// resolved only within the organization the path names, and every lookup
// by id or name is bounded by the caller's organization. TestTenantIsolation
// walks every registered route (handle's and mount's alike) with each kind
// of credential of another organization; a route outside /api/orgs/{org}
// must be added to its list, saying how to call it or why it is public.
//
// Logs never carry secrets: token and client secrets, cookies, login codes,
// SAML responses and assertions, JWTs and private keys stay out of every
// line, refusals and internal errors included (TestSecretsNeverLogged runs
// every flow at debug level and scans the output).
//
// # Management API: organization, members, teams, roles
//
// Every route is under /api/orgs/{org} and needs a token of that
// organization. Lists answer {"<plural>": [...]}; paged ones take ?limit=
// (1 to 1000, 100 by default) and ?after= (an id) and add next_cursor, the
// id to pass as ?after=, while more may follow. A {member} is an id or a
// userName, a {team} or {role} an id or a name, in any letter case. Teams
// and custom roles carry a version, shown as their ETag; PATCH and PUT take
// it as If-Match and answer 412 when it is stale. Writes answer with
// X-Gatehouse-Revision, to pass as min_revision to a check. The scope each
// endpoint needs, and why where the catalogue does not say:
//
//   - GET the organization: any token of it. Its settings decide who may do
//     what, so everyone may read them.
//   - PATCH settings: organization:update. Making Admin the default role,
//     or ceasing to, also needs org_member:set_admin: it would make every
//     newcomer an admin. Base permissions take only the levels the catalogue
//     gives them (stacks none/read/write; environments none/read/open/write;
//     insights accounts none/read/write/admin).
//   - GET members, GET a member (with their teams and team role):
//     org_member:read. PATCH a member's role: org_member:update, plus
//     org_member:set_admin to give or take away Admin. DELETE a member:
//     org_member:delete, plus org_member:set_admin when the member is an
//     admin (removing one takes Admin away).
//   - Teams: GET the list team:list; POST team:create (the
//     members_can_create_teams toggle is in the engine); GET one, its
//     members, roles and grants team:read; PATCH team:update; DELETE
//     team:delete. A member who creates a team becomes its admin; otherwise a
//     member let in by the toggle could not fill the team.
//   - Team members (PUT, DELETE): team:update, or being an admin of that
//     team. When the team holds the Admin role, joining or leaving it makes
//     or unmakes an admin, so org_member:set_admin is needed as well: neither
//     team:update nor team adminship may be a way around it. A caller with
//     neither right is refused before learning whether the team exists.
//   - Team role assignments (PUT, DELETE): role:update and team:update
//     together; being team admin is not enough. The Admin role also needs
//     org_member:set_admin.
//   - Team grants (PUT, DELETE): team:update, or being an admin of that team
//     (team admins may always manage their team's grants).
//   - Member grants: GET org_member:read. PUT and DELETE org_member:update,
//     or the entity's own access scope: stack_access:update on that stack,
//     insights_account_access:update on that insights account. Environments
//     have no access scope in the catalogue, so only org_member:update. The
//     API knows an entity by type and id only, so rules matching tags do not
//     count here.
//   - Custom roles: GET role:read (the list starts with the three built-in
//     roles, marked builtin, with their organization scopes; Admin's
//     entity access shows as rules); POST role:create; PUT role:update
//     (a whole replacement); DELETE role:delete. permission_set (read_only,
//     standard, billing) is stored as its scopes, united with scopes.
//     Built-in roles cannot be changed or deleted (400).
//   - Group mapping rules (/scim/mappings, scimmappings.go): GET and POST
//     .../preview scim:read; PUT (a whole replacement, applied at once)
//     scim:update, plus org_member:set_admin when the save gives Admin
//     through a new rule or makes or unmakes admins.
//
// An unknown role given to assign is bad input (400), while a role, team or
// member named by the path of the resource itself is missing (404).
//
// # Management API: tokens and the audit log
//
// Tokens come in four families, each with GET (list), POST (create) and
// DELETE .../{id} (revoke):
//
//   - /tokens, organization tokens: org_token:read, org_token:create,
//     org_token:delete. The engine withholds create and delete from every
//     organization token, Admin ones included, so a leaked token cannot mint
//     its successors. The role (a built-in id, or a custom role's id or
//     name; the default role when left out) may hold no organization scope
//     the creator lacks, so minting a token never raises one's rights. Entity
//     rules of custom roles are not compared.
//   - /teams/{team}/tokens: team:list_tokens, team:create_token,
//     team:delete_token, or being an admin of that team. A caller with
//     neither is refused before learning whether the team exists.
//   - /me/tokens, personal tokens: no scope; the caller must act for an
//     active member (a personal token) and sees and revokes only their own.
//     Other callers get 403 saying personal tokens belong to members.
//   - /scim/tokens: scim:read, scim:update (the catalogue has no
//     scim:create), scim:delete.
//
// POST takes {"name", "description", "role" (organization tokens only),
// "expires_in_seconds" or "expires_at" (RFC 3339)} and answers 201 with the
// token and, once only, its secret as "token" (Cache-Control: no-store).
// Lists never show secrets, include deleted tokens, and mark each token's
// status: active, expired or deleted. DELETE answers 204 once this replica's
// engine has dropped the token, so its next use gets 401. Names may not hold
// control characters; uniqueness (deleted tokens included) and the two-year
// cap are the store's (409, 400).
//
// GET /audit needs audit_logs:read and answers {"events": [...], "next_cursor"},
// newest first. It filters by since and until (RFC 3339; since inclusive,
// until exclusive), actor (an actor's id, or its name exactly as recorded,
// such as organization token "ci"), event (an action name; an unknown one
// is refused with the list of known ones) and target (a target id), and
// pages with limit (1 to 1000, 100 by default) and after, the next of the
// page before; next is present only when older events exist. Unknown
// parameters are refused, so a misspelt filter cannot select everything.
//
// GET /audit/export needs audit_logs:export, takes the same filters (not
// limit or after) and ?format=json|csv|cef (json by default), and streams
// every matching event, newest first, as an attachment:
//
//   - json: JSON Lines (application/x-ndjson), one event per line in the
//     shape of GET /audit, so exports of any size can be read line by line.
//   - csv: RFC 4180 with a header row, CRLF line ends; details are compact
//     JSON. A cell starting with = + - @ tab or CR gets a leading
//     apostrophe, so spreadsheets do not run it as a formula.
//   - cef: CEF:0|Gatehouse|Gatehouse|<version>|<action>|<action in words:
//     target name>|<severity>|rt externalId act suid suser cs1..cs6 (actor
//     type, target type, id and name, request id, details) src cn1
//     (revision). Header fields escape \ and | and turn line breaks into
//     spaces; extension values escape \ and = and write line breaks as \n
//     and \r. Severity is 7 for refusals and failures, 5 for changes to
//     access (deletions, removals, roles, tokens, grants, policies, issuers,
//     SAML and settings), 3 otherwise.
//
// The store is read 1000 events at a time. A failure once streaming has
// begun aborts the connection, so a cut export never looks complete.
//
// # Abuse limits
//
// The endpoints anyone on the network can reach are behind token buckets
// (ratelimit.go), off unless Config.RateLimits sets them (gatehouse serve
// does, by default):
//
//   - /scim/v2/…: per client address, then per bearer token, both before
//     the token is looked up, so a flood of wrong tokens costs no query.
//     Tokens are keyed by a hash under a random seed: no secret is kept.
//   - POST /oauth/token: per client address and, once the subject token is
//     verified, per issuer and subject. An unverified sub would let anyone
//     spend a workload's exchanges with forged tokens carrying its sub.
//   - /sso/{org}/…: per client address.
//
// The management and check APIs are not limited: they need a token, and
// checks are the hot path. The client address is the request's
// RemoteAddr, as sourceIP has it: the connection's peer, or, when
// cmd/gatehouse wraps the server in TrustProxies (--trusted-proxies), the
// address the trusted load balancers name in X-Forwarded-For (proxy.go).
// Without that setting all clients of a proxy share one bucket. An IPv6
// client is keyed by its /64, which one host often holds whole.
//
// A refused request gets 429 and Retry-After in whole seconds, in its
// protocol's shape: SCIM's error schema with status "429" and no scimType
// (RFC 7644 section 3.12 has none for it); for the token exchange RFC
// 6749's JSON with error "temporarily_unavailable", the registered code
// that means "try again later" (invalid_request would send a client to
// fix a request that is fine, and a code of our own, such as
// rate_limited, is one no OAuth library knows); the API's error with code
// rate_limited for POST /sso/{org}/token and logout; a line of text for
// the pages browsers and identity providers reach.
//
// Buckets live in each replica's memory, not in the database: a write per
// request would make the limiter the costliest part of the requests it
// guards. With n replicas a client may get up to n times a limit. A table
// holds at most 32768 keys; buckets that have refilled are forgotten each
// minute, which forgives no one. A flood of new keys that fills the table
// evicts arbitrary ones, which may forgive some client part of its wait,
// rather than refuse newcomers, which would let a flood lock out every new
// client.
package api
