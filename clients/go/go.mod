module github.com/progimage/progimage/clients/go

go 1.19
