package main

import (
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"degen/gpu"
)

// devicesCommand lists the GPUs: name, memory, compute capability, driver.
// The CPU build answers with gpu.ErrNoCUDA (build degen-cuda with `make cuda`).
func devicesCommand() *cli.Command {
	return &cli.Command{
		Name:  "devices",
		Usage: "list the NVIDIA GPUs the CUDA build can use",
		Flags: []cli.Flag{jsonFlag},
		Action: func(c *cli.Context) error {
			if c.Args().Len() > 0 {
				return usagef("devices takes no arguments, got %q", c.Args().First())
			}
			devs, err := gpu.Devices()
			if err != nil {
				return err
			}
			if c.Bool("json") {
				return printJSON(os.Stdout, devs)
			}
			if len(devs) == 0 {
				fmt.Println("no GPU found")
				return nil
			}
			w := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
			fmt.Fprintln(w, "GPU\tNAME\tMEMORY\tFREE\tCOMPUTE\tSMs\tMAX CLOCK\tSHARED/BLOCK\tDRIVER")
			for _, d := range devs {
				clock := "-" // the emulator has none
				if d.MaxClockMHz > 0 {
					clock = fmt.Sprintf("%d MHz", d.MaxClockMHz)
				}
				fmt.Fprintf(w, "%d\t%s\t%.1f GiB\t%.1f GiB\t%s\t%d\t%s\t%d KiB\t%s\n", d.Ordinal, d.Name,
					float64(d.TotalBytes)/(1<<30), float64(d.FreeBytes)/(1<<30), d.Capability, d.Multiprocessors, clock,
					d.SharedPerBlockKB, d.Driver)
			}
			return w.Flush()
		},
	}
}
