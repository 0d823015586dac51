import os,sys
def  total( items ) :
    result=0
    for x in items :  result+=x
    return result
def average(items):
  return total(items)/len(items)
