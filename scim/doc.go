// Package scim is Gatehouse's SCIM 2.0 service provider (RFC 7643 and
// 7644), built on github.com/elimity-com/scim: identity providers push
// users and groups here, and they land in the directory as members and as
// groups backing IdP-managed teams.
//
// # Serving
//
// Package api mounts the Service at /scim/v2/{org}/, authenticates the
// bearer token (only a live SCIM token of that organization gets in; any
// other is refused with 401 and audited as auth-failure-scim-access-token),
// makes the token the actor of every change, and puts the organization in
// the context (NewContext). Endpoint names are accepted in any letter case.
// Every error is an RFC 7644 error message with its scimType.
//
// Every write body goes through normalizeBody (dialect.go), which turns
// what each identity provider actually sends into RFC 7644, before the
// library or this package reads it. The library then validates POST and
// PUT bodies against the schemas and parses PATCH operations; its Server,
// one per organization so that Location and meta.location carry the
// organization's base URL, dispatches the single-resource requests to the
// handlers in users.go and groups.go. Around it this package adds what the
// library lacks or gets wrong:
//
//   - lists and searches (GET /Users, /Groups, /, POST …/.search) with the
//     filter run as SQL by the directory, sortBy/sortOrder, and the number of
//     resources on the page as itemsPerPage;
//   - attributes and excludedAttributes on every resource answered, single
//     or listed, and "schemas" naming the extensions a resource holds;
//   - ETags and If-Match / If-None-Match;
//   - /ServiceProviderConfig with the truth, and Bulk;
//   - errors: the library would show an internal error's text to the client,
//     and it turns statuses RFC 7644 does not list for a method (503 among
//     them) into 500; the handler's error is remembered and answered instead,
//     so an identity provider sees 503 with Retry-After during a database
//     outage and retries.
//
// # Resources
//
// Users are members. userName is unique per organization in any letter
// case (409 uniqueness otherwise); externalId, active, name.givenName,
// name.familyName, displayName and emails are columns; the whole resource
// is kept beside them (see document.go for what is kept), so extension
// attributes Gatehouse does not model, known extension or not, round-trip
// unchanged. Unknown attributes of the core schema are dropped, as the
// library drops them, and a password is never stored. A User's groups
// attribute is read-only and derived: it lists the groups the member is in
// (read with one query per answer or page, and not at all when excluded).
// A POST without active creates an active member; a PUT without active
// keeps the member's state, so that a template that leaves it out neither
// suspends nor revives anyone. Deactivation (active=false) revokes the
// member's personal tokens in the same transaction, and the engine denies
// an inactive member at once; reactivation restores neither. DELETE removes
// the member with its memberships, grants and tokens.
//
// Groups are directory groups, each backing a team created with it in one
// transaction (directory.ProvisionGroup; the team's naming rule when a name
// is taken is documented there), unless the organization's group mapping
// rules ignore the group; the rules may also assign the team a role or give
// the group's members an organization role, applied in the same
// transaction as the group's creation, rename or membership change
// (directory/mapping.go). Membership lives in rows, never in the
// group's document, and every change of it is a delta applied in the same
// store call as the group's other attributes: PATCH add members adds those
// named, remove members with a value list removes only those (Entra's
// form), remove members[value eq "x" or value eq "y"] removes those,
// remove members without a value removes all (RFC 7644), replace members
// sets the list, and PUT sets it too (a PUT without members leaves none).
// A group PATCH answers 204 No Content, with the new ETag, unless the
// query asks for attributes or excludedAttributes, so that adding one
// member to a group of 50,000 reads no member rows; a GET that excludes
// members does not read them either.
//
// A PATCH is all-or-nothing: its operations are applied in memory (the
// library's ApplyPatch for attributes), the result is validated as a whole,
// and one store call writes it; any failing operation fails the request
// with 400 and changes nothing. Reads and writes meet at the version read,
// so a concurrent change is never overwritten: without If-Match the PATCH
// starts over (up to three times), with it the answer is 412.
//
// # Versions
//
// ETags are weak and carry the resource's version, W/"N", as does
// meta.version; a group's version grows with membership changes too.
// If-Match (one or more tags, or *) guards PUT, PATCH and DELETE with 412;
// If-None-Match on GET answers 304 when it names the current version.
// Writes answer X-Gatehouse-Revision, the organization's revision after
// them; a write that takes access away (deactivation, a deletion, a member
// removal) returns only once this replica's authorization snapshot holds
// it (Options.Settled), so a check here right after it denies.
//
// # Lists
//
// Filters support RFC 7644's whole grammar: every operator, and, or, not,
// grouping, value paths, URN-prefixed attributes, meta.created and
// meta.lastModified, and Entra's emails[type eq "work"].value eq "x", read
// as emails[type eq "work" and value eq "x"]. Attributes must belong to the
// resource type's schema, its known extensions or the common attributes;
// anything else is 400 invalidFilter. Each comparison honours its
// attribute's caseExact. Pages default to 100 resources and hold at most
// 1,000 (filter.maxResults); count=0 answers totalResults alone. Without
// sortBy resources come in creation order. A query at the root lists users,
// then groups, each sorted on its own; a filter there applies to the types
// it is valid for. No match is 200 with totalResults 0. A filter longer than
// 4 KiB is refused as invalidFilter before it is parsed: the parser's time
// grows with the text, and identity providers send a few hundred bytes.
//
// attributes and excludedAttributes take paths in any case ("emails",
// "name.givenName", a whole extension by URN, "URN:attribute" or a core
// attribute with the core URN). id and schemas are always answered; with
// attributes everything else, meta included, only when asked for. When both
// are given, attributes wins.
//
// # Bulk
//
// POST /Bulk runs up to 1,000 operations (413 beyond; the body limit is the
// server's, advertised as maxPayloadSize) on /Users and /Groups. Each
// operation runs as if sent alone, in its own transaction: Bulk is not
// atomic, as RFC 7644 allows, and operations before a failure stay
// written. Operations run in request order, except that one referring to a
// bulkId ("bulkId:ID" as the id in its path or as any string in its data,
// member values included) waits for the POST carrying it; circular
// references fail with 409, a reference to a failed POST or to no POST of
// the request with 400. failOnErrors N stops after N failures; operations
// not run are left out of the answer, which lists each run operation's
// status, location and version, and the error for failures.
package scim
