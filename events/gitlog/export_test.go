package gitlog

// ReadInBulk makes l read every history of more than one commit with
// one git process (repo.Diffs), as it reads long ones.
func ReadInBulk(l *GitLog) { l.bulk = 2 }
