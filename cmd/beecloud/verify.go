package main

func (c *cli) verify(args []string) int { return exitUsage }
