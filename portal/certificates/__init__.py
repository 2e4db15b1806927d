"""Certificates (档案证明): the PDF an issuing archive signs, and the keys it signs with.

`document` holds the plain data a certificate prints, `pdf` renders it, `signing` signs and
checks it (PAdES, pyHanko) and creates development keys; `cli` is `portal keys init`.
"""
