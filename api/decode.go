package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
)

// decodeJSON reads one JSON object from the request body into v. Unknown
// fields, trailing data and a wrong content type are refused with a message
// that says what was wrong.
func decodeJSON(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return directory.Errorf(directory.Invalid, "send the body as application/json, not %s", ct)
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return directory.Errorf(directory.Invalid, "the body holds more than one JSON value")
	}
	return nil
}

// jsonError turns a decoding failure into a client error naming the problem.
func jsonError(err error) error {
	var (
		syntax    *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
		tooLarge  *http.MaxBytesError
		validated *directory.Error
	)
	switch {
	case errors.As(err, &tooLarge):
		return err
	case errors.As(err, &validated):
		return err
	case errors.Is(err, io.EOF):
		return directory.Errorf(directory.Invalid, "the body is empty; send a JSON object")
	case errors.As(err, &syntax):
		return directory.Errorf(directory.Invalid, "the body is not valid JSON (at byte %d): %v", syntax.Offset, err)
	case errors.As(err, &typeErr):
		return directory.Errorf(directory.Invalid, "field %q must be %s, not %s", typeErr.Field, typeErr.Type, typeErr.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return directory.Errorf(directory.Invalid, "the body ends in the middle of a JSON value")
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return directory.Errorf(directory.Invalid, "%s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return directory.Errorf(directory.Invalid, "cannot read the body: %v", err)
}

// parseScope returns the scope called name for entity type t ("" or org for
// organization-level scopes), or an Invalid error that says what is wrong.
func parseScope(name string, t authz.EntityType) (authz.Scope, error) {
	if t == "" {
		t = authz.EntityOrg
	}
	if sc, ok := authz.LookupScope(name, t); ok {
		return sc, nil
	}
	all := authz.ScopesNamed(name)
	if len(all) == 0 {
		if name == "" {
			return 0, directory.Errorf(directory.Invalid, "a scope is required")
		}
		return 0, directory.Errorf(directory.Invalid, "unknown scope %q", name)
	}
	if err := authz.CheckEntity(all[0], authz.Entity{Type: t, ID: "x"}); err != nil {
		return 0, directory.Errorf(directory.Invalid, "%v", err)
	}
	return all[0], nil
}

// mustScope returns a catalogue scope the API itself names.
func mustScope(name string) authz.Scope {
	sc, err := authz.ParseScope(name)
	if err != nil {
		panic(err)
	}
	return sc
}
