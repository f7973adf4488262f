package cmdbuild

import (
	"bytes"
	"os"
	"strconv"
)

// hasRunningMember scans /proc for a process of group pgid that is not a
// zombie. If /proc cannot be read it assumes there is one, so that Run errs
// towards signalling and waiting rather than leaving processes behind.
func hasRunningMember(pgid int) bool {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return true
	}
	for _, entry := range entries {
		if _, err := strconv.Atoi(entry.Name()); err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + entry.Name() + "/stat")
		if err != nil {
			continue // exited while we looked
		}
		state, group, ok := parseProcStat(stat)
		if ok && group == pgid && state != 'Z' && state != 'X' {
			return true
		}
	}
	return false
}

// parseProcStat extracts the state and process group from /proc/<pid>/stat:
// "pid (comm) state ppid pgrp ...". The command name may contain spaces and
// parentheses, so fields are counted from its last ')'.
func parseProcStat(stat []byte) (state byte, pgrp int, ok bool) {
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, 0, false
	}
	fields := bytes.Fields(stat[end+1:])
	if len(fields) < 3 || len(fields[0]) != 1 {
		return 0, 0, false
	}
	pgrp, err := strconv.Atoi(string(fields[2]))
	if err != nil {
		return 0, 0, false
	}
	return fields[0][0], pgrp, true
}
