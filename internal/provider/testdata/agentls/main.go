// Command agentls prints the comments of the keys an SSH agent holds. Tests
// copy it into a build context to prove, from inside a build, that the agent
// was forwarded (busybox has no ssh-add).
package main

import (
	"fmt"
	"net"
	"os"

	"golang.org/x/crypto/ssh/agent"
)

func main() {
	conn, err := net.Dial("unix", os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	keys, err := agent.NewClient(conn).List()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, k := range keys {
		fmt.Println(k.Comment)
	}
}
