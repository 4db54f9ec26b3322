// Stride explorer: written with the explorer page.
