package main

func (c *cli) sandbox(args []string) int { return exitUsage }
