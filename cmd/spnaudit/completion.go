package main

import (
	"github.com/spf13/cobra"
)

func newCompletionCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish",
		Short: "Print a shell completion script",
		Long: `Prints the completion script for bash, zsh or fish: commands, flags and their values.
Load it in the current shell or install it where your shell looks for completions.`,
		Example: `  # bash, this session; or install for all sessions
  source <(spnaudit completion bash)
  spnaudit completion bash > /etc/bash_completion.d/spnaudit

  # zsh (compinit must be enabled)
  spnaudit completion zsh > "${fpath[1]}/_spnaudit"

  # fish
  spnaudit completion fish > ~/.config/fish/completions/spnaudit.fish`,
		ValidArgs: []string{"bash", "zsh", "fish"},
		Args:      usageArgs(cobra.MatchAll(cobra.ExactArgs(1), cobra.OnlyValidArgs)),
		RunE: func(c *cobra.Command, args []string) error {
			root := c.Root()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(a.stdout, true)
			case "zsh":
				return root.GenZshCompletion(a.stdout)
			}
			return root.GenFishCompletion(a.stdout, true)
		},
	}
}
