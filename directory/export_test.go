package directory

// SetAfterSignInRead lets tests change the directory between a sign-in's
// read of the member and its write.
func (s *Store) SetAfterSignInRead(fn func()) { s.afterSignInRead = fn }
