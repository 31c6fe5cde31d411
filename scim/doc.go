// Package scim is Gatehouse's SCIM 2.0 service provider (RFC 7643 and
// 7644), built on github.com/elimity-com/scim: identity providers push
// users and groups here, and they land in the directory as members and as
// groups backing IdP-managed teams.
package scim
