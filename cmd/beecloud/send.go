package main

func (c *cli) send(args []string) int { return exitUsage }
