package main
import ("context";"os";"fmt";"time";"github.com/spnaudit/spnaudit/lab")
func main(){ l:=lab.New(os.Stderr); t:=time.Now(); err:=l.SeedBulk(context.Background(),20000,2000); fmt.Println(err, time.Since(t)) }
