package main

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
)

func openTestDB(url string) (*pgxpool.Pool, error) { return pgxpool.New(context.Background(), url) }
