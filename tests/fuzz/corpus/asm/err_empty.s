# nothing but a comment
label:
