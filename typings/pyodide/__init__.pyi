# Pyodide's Python package, as far as this app uses it (the real one exists only in the browser).
