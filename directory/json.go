package directory

import (
	"database/sql/driver"
	"fmt"
)

// JSON is a JSON document kept in a JSONB column on PostgreSQL and a TEXT
// column on SQLite. It reads both representations and marshals as itself.
type JSON []byte

// Scan implements sql.Scanner.
func (j *JSON) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*j = nil
	case []byte:
		*j = append(JSON(nil), v...)
	case string:
		*j = JSON(v)
	default:
		return fmt.Errorf("directory.JSON: cannot scan %T", src)
	}
	return nil
}

// Value implements driver.Valuer; an empty document is stored as {}.
func (j JSON) Value() (driver.Value, error) {
	if len(j) == 0 {
		return "{}", nil
	}
	return string(j), nil
}

// MarshalJSON returns the document itself, or null when empty.
func (j JSON) MarshalJSON() ([]byte, error) {
	if len(j) == 0 {
		return []byte("null"), nil
	}
	return j, nil
}

// UnmarshalJSON keeps a copy of the document.
func (j *JSON) UnmarshalJSON(b []byte) error {
	*j = append(JSON(nil), b...)
	return nil
}
