package load

import "net/http"

// RemoveMembers is the request dialect name sends to take the members
// memberIDs out of the group groupID: its headers and body, for the tests
// to send and then read the directory.
func RemoveMembers(name, groupID string, memberIDs ...string) (http.Header, []byte, error) {
	named, err := dialectNamed(name)
	if err != nil {
		return nil, nil, err
	}
	d, ok := named.(groupDialect)
	if !ok {
		return nil, nil, errNoGroups(named)
	}
	members := make([]user, len(memberIDs))
	for i, id := range memberIDs {
		members[i] = user{id: id}
	}
	return d.header(true), jsonBody(d.removeMembers(group{id: groupID}, members)), nil
}
