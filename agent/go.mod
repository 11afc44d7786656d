module supermachine/agent

go 1.26
