"""Dev and test infrastructure shared by the tests and the dev tools (bench/): a private
Azurite on free ports and the app over real HTTP (DevHost + Azurite + LocalCloud).

Never imported by the app (an import-linter contract), never deployed (.funcignore).
It lives here, not in tests/, so that nothing but a test imports tests/.
"""
