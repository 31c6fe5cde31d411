-- +goose Up
-- Single sign-on (directory/sso.go). An organization's SAML connection:
-- its settings as JSON, the identity provider's metadata as last fetched or
-- uploaded, and the service provider key pairs, private keys sealed with
-- the server's secret key.
CREATE TABLE saml_connections (
    org_id              TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    settings            TEXT NOT NULL,
    metadata_xml        TEXT NOT NULL DEFAULT '',
    metadata_fetched_at TIMESTAMPTZ,
    idp_entity_id       TEXT NOT NULL DEFAULT '',
    idp_certificates    TEXT NOT NULL DEFAULT '[]',
    sp_keys             TEXT NOT NULL,
    version             BIGINT NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id)
);

-- Logins in flight: SAML request ids and OIDC states, kept here rather
-- than in a cookie so that any replica can finish a login and nothing the
-- browser sends is trusted for it.
CREATE TABLE sso_requests (
    org_id     TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    id         TEXT NOT NULL,
    return_to  TEXT NOT NULL DEFAULT '',
    data       TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, kind, id)
);
CREATE INDEX sso_requests_expiry ON sso_requests (org_id, expires_at);

-- Assertion ids already used, until the assertion would have expired.
CREATE TABLE sso_assertions (
    org_id     TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id         TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX sso_assertions_expiry ON sso_assertions (org_id, expires_at);

-- One-time login codes, by the SHA-256 of the code.
CREATE TABLE login_codes (
    org_id     TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    hash       TEXT NOT NULL,
    member_id  TEXT NOT NULL,
    return_to  TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, hash)
);

-- +goose Down
DROP TABLE login_codes;
DROP TABLE sso_assertions;
DROP TABLE sso_requests;
DROP TABLE saml_connections;
