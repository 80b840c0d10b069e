a:
exit
a: exit
