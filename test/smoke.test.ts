import t from 'tap'
const n: number = 1
t.equal(n, 1, 'types strip')
