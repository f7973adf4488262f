package dockerfile

import (
	"fmt"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// Check reports what BuildKit's Dockerfile frontend would refuse before it
// builds anything: text it cannot parse, or an instruction it does not know
// or cannot read ("RUNN", "COPY" without a destination), with its line. A
// Dockerfile whose syntax directive ("# syntax=...") names a frontend image
// is that frontend's to read, so it is not checked.
func Check(text string) error {
	if _, _, _, named := parser.DetectSyntax([]byte(text)); named {
		return nil
	}
	f, err := Parse(text)
	if err != nil {
		return err
	}
	for _, node := range f.result.AST.Children {
		if _, err := instructions.ParseInstruction(node); err != nil {
			return fmt.Errorf("line %d: %w", node.StartLine, err)
		}
	}
	return nil
}
