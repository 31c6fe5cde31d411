// Package authz holds Gatehouse's access model as data: the scope catalogue,
// entity types and their permission levels, the built-in organization roles,
// team roles and token kinds, and the audit action names. It performs no I/O
// and imports nothing else of Gatehouse, so every other package may use it.
package authz
