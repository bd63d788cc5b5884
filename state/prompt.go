package state

import (
	"fmt"
	"os"
)

// MaxPrompt is the largest prompt a job takes.
const MaxPrompt = 256 << 10

// WritePrompt stores the prompt of manual job id, root-only: prompts never
// go on a command line, which ps shows to everyone.
func (l Layout) WritePrompt(id, prompt string) error {
	if !IsJobID(id) {
		return fmt.Errorf("job id %q is not one herdctl makes", id)
	}
	if err := os.MkdirAll(l.PromptsDir(), 0o700); err != nil {
		return err
	}
	return WriteFileAtomic(l.PromptFile(id), []byte(prompt), 0o600)
}

// TakePrompt reads the prompt of job id and removes its file. ok is false
// when the job has no prompt file.
func (l Layout) TakePrompt(id string) (prompt string, ok bool, err error) {
	if !IsJobID(id) {
		return "", false, fmt.Errorf("job id %q is not one herdctl makes", id)
	}
	b, err := ReadFileCapped(l.PromptFile(id), MaxPrompt)
	if os.IsNotExist(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("reading the prompt: %w", err)
	}
	os.Remove(l.PromptFile(id))
	return string(b), true, nil
}

// RemovePrompt drops the prompt of a job that will not run.
func (l Layout) RemovePrompt(id string) {
	if IsJobID(id) {
		os.Remove(l.PromptFile(id))
	}
}
