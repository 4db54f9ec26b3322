// Copy buttons on pycon blocks copy runnable code: written with the browser tests.
