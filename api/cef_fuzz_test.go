package api

import "strings"

// unescapeCEFValue reads an extension value as a CEF consumer does: \\,
// \=, \n and \r stand for a backslash, an equals sign and the line
// breaks; anything else is itself.
func unescapeCEFValue(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] != '\\' || i+1 == len(v) {
			b.WriteByte(v[i])
			continue
		}
		i++
		switch v[i] {
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		default:
			b.WriteByte(v[i])
		}
	}
	return b.String()
}
